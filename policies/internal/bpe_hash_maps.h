// bpe_hash_maps.h: the two lookups BPE does millions of times, as flat
// open-addressing tables (a few bytes per entry; std::unordered_map would
// cost ~5x the memory for a 150k vocabulary and chase pointers).
// Read-only after construction, so safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::policies::internal {

// (left id, right id) -> (merge rank, merged id).
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void reserve(size_t n);
  // Returns false when the pair is already present (the first rank wins).
  bool insert(int32_t left, int32_t right, Value value);
  // nullptr when the pair does not merge.
  const Value* find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }
  size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };
  static uint64_t pack(int32_t l, int32_t r) { return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r); }
  static size_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  void grow();
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Token strings by id (one arena) and id by token string.
class TokenTable {
 public:
  // Adds `token` as `id`; returns false when the string or the id is taken.
  bool add(std::string_view token, int32_t id);
  // -1 when absent.
  int32_t find(std::string_view token) const;
  // The string of `id`; empty when no token has that id.
  std::string_view token(int32_t id) const {
    if (!has_id(id)) return {};
    return std::string_view(arena_).substr(offsets_[id], lengths_[id]);
  }
  bool has_id(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < offsets_.size() && offsets_[id] != kNone; }
  // One past the largest id.
  int32_t id_end() const { return static_cast<int32_t>(offsets_.size()); }
  size_t size() const { return size_; }
  size_t memory_bytes() const;

 private:
  static constexpr uint32_t kNone = ~0u;
  static size_t hash(std::string_view s);
  void grow();
  std::string arena_;
  std::vector<uint32_t> offsets_;  // by id; kNone for ids without a token
  std::vector<uint32_t> lengths_;
  std::vector<int32_t> slots_;  // open addressing over ids; -1 empty
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace grpo::policies::internal
