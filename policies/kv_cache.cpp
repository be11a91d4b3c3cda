// kv_cache.cpp: slot storage and bookkeeping of KvCache.
#include "policies/kv_cache.h"

#include "core/error.h"

namespace grpo::policies {

KvCache::KvCache(const ModelConfig& c, int64_t max_slots, int64_t max_len, torch::Device device, torch::ScalarType dtype,
                 bool with_mtp)
    : max_slots_(max_slots), max_len_(max_len), mla_(c.is_mla()), lengths_(static_cast<size_t>(max_slots), 0) {
  if (max_slots <= 0 || max_len <= 0) throw Error("KvCache: max_slots and max_len must be > 0");
  int64_t layers = c.num_hidden_layers + (with_mtp ? c.num_nextn_predict_layers : 0);
  auto opts = torch::TensorOptions().device(device).dtype(dtype);
  for (int64_t l = 0; l < layers; ++l) {
    if (mla_) {
      a_.push_back(torch::zeros({max_slots, max_len, c.kv_lora_rank}, opts));
      b_.push_back(torch::zeros({max_slots, max_len, c.qk_rope_head_dim}, opts));
    } else {
      a_.push_back(torch::zeros({max_slots, c.num_key_value_heads, max_len, c.dense_head_dim()}, opts));
      b_.push_back(torch::zeros({max_slots, c.num_key_value_heads, max_len, c.dense_head_dim()}, opts));
    }
  }
}

int64_t KvCache::length(int64_t slot) const { return lengths_.at(static_cast<size_t>(slot)); }

void KvCache::reset_slot(int64_t slot) { lengths_.at(static_cast<size_t>(slot)) = 0; }

void KvCache::reset_all() { std::fill(lengths_.begin(), lengths_.end(), 0); }

void KvCache::truncate_slot(int64_t slot, int64_t len) {
  int64_t& l = lengths_.at(static_cast<size_t>(slot));
  if (len < 0 || len > l) throw Error("KvCache::truncate_slot: length " + std::to_string(len) + " outside [0, " + std::to_string(l) + "]");
  l = len;
}

void KvCache::copy_slot(int64_t src, int64_t dst, int64_t len) {
  if (len < 0 || len > length(src))
    throw Error("KvCache::copy_slot: slot " + std::to_string(src) + " holds " + std::to_string(length(src)) + " tokens, asked to copy " + std::to_string(len));
  if (dst < 0 || dst >= max_slots_) throw Error("KvCache::copy_slot: destination slot " + std::to_string(dst) + " out of range");
  torch::NoGradGuard no_grad;
  if (src != dst && len > 0) {
    for (size_t l = 0; l < a_.size(); ++l) {
      if (mla_) {
        a_[l][dst].narrow(0, 0, len).copy_(a_[l][src].narrow(0, 0, len));
        b_[l][dst].narrow(0, 0, len).copy_(b_[l][src].narrow(0, 0, len));
      } else {
        a_[l][dst].narrow(1, 0, len).copy_(a_[l][src].narrow(1, 0, len));
        b_[l][dst].narrow(1, 0, len).copy_(b_[l][src].narrow(1, 0, len));
      }
    }
  }
  lengths_[static_cast<size_t>(dst)] = len;
}

int64_t KvCache::bytes_per_token() const {
  int64_t bytes = 0;
  for (size_t l = 0; l < a_.size(); ++l) {
    int64_t per_slot_a = a_[l].numel() / max_slots_ / max_len_;
    int64_t per_slot_b = b_[l].numel() / max_slots_ / max_len_;
    bytes += (per_slot_a + per_slot_b) * a_[l].element_size();
  }
  return bytes;
}

int64_t KvCache::allocated_bytes() const {
  int64_t bytes = 0;
  for (size_t l = 0; l < a_.size(); ++l) bytes += a_[l].numel() * a_[l].element_size() + b_[l].numel() * b_[l].element_size();
  return bytes;
}

void KvCache::check_capacity(const std::vector<int64_t>& slots, int64_t new_tokens) const {
  for (int64_t s : slots) {
    if (s < 0 || s >= max_slots_) throw Error("KvCache: slot " + std::to_string(s) + " out of range [0, " + std::to_string(max_slots_) + ")");
    if (length(s) + new_tokens > max_len_)
      throw Error("KvCache: slot " + std::to_string(s) + " would hold " + std::to_string(length(s) + new_tokens) +
                  " tokens, more than max_len " + std::to_string(max_len_) + " (allocate a longer cache)");
  }
}

void KvCache::advance(const std::vector<int64_t>& slots, const std::vector<int64_t>& new_tokens) {
  for (size_t i = 0; i < slots.size(); ++i) lengths_.at(static_cast<size_t>(slots[i])) += new_tokens[i];
}

}  // namespace grpo::policies
