#include "policies/internal/bpe_hash_maps.h"

namespace grpo::policies::internal {

void PairMap::reserve(size_t n) {
  // Load factor <= 3/4: linear probing stays short and a 151k-merge table
  // takes 4 MB instead of 8.
  size_t cap = 16;
  while (cap * 3 < n * 4) cap <<= 1;
  if (cap <= slots_.size()) return;
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  size_ = 0;
  for (const Slot& s : old)
    if (s.key != kEmpty) insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xffffffffu), s.value);
}

void PairMap::grow() { reserve(slots_.empty() ? 8 : slots_.size()); }  // doubles: size() == 3/4 of it

bool PairMap::insert(int32_t left, int32_t right, Value value) {
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  const uint64_t key = pack(left, right);
  for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) return false;
    if (s.key == kEmpty) {
      s.key = key;
      s.value = value;
      ++size_;
      return true;
    }
  }
}

size_t TokenTable::hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

void TokenTable::grow() {
  const size_t cap = slots_.empty() ? 64 : slots_.size() * 2;
  slots_.assign(cap, -1);
  mask_ = cap - 1;
  for (int32_t id = 0; id < id_end(); ++id) {
    if (offsets_[id] == kNone) continue;
    size_t i = hash(token(id)) & mask_;
    while (slots_[i] != -1) i = (i + 1) & mask_;
    slots_[i] = id;
  }
}

bool TokenTable::add(std::string_view tok, int32_t id) {
  if (id < 0 || has_id(id) || find(tok) != -1) return false;
  if (static_cast<size_t>(id) >= offsets_.size()) {
    offsets_.resize(id + 1, kNone);
    lengths_.resize(id + 1, 0);
  }
  offsets_[id] = static_cast<uint32_t>(arena_.size());
  lengths_[id] = static_cast<uint32_t>(tok.size());
  arena_.append(tok);
  ++size_;
  if (size_ * 2 > slots_.size()) {
    grow();  // re-inserts every id, this one included
    return true;
  }
  size_t i = hash(tok) & mask_;
  while (slots_[i] != -1) i = (i + 1) & mask_;
  slots_[i] = id;
  return true;
}

int32_t TokenTable::find(std::string_view tok) const {
  if (slots_.empty()) return -1;
  for (size_t i = hash(tok) & mask_;; i = (i + 1) & mask_) {
    const int32_t id = slots_[i];
    if (id == -1) return -1;
    if (token(id) == tok) return id;
  }
}

size_t TokenTable::memory_bytes() const {
  return arena_.capacity() + (offsets_.capacity() + lengths_.capacity()) * sizeof(uint32_t) + slots_.capacity() * sizeof(int32_t);
}

}  // namespace grpo::policies::internal
