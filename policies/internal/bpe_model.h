// bpe_model.h: the byte-level BPE `model` of tokenizer.json: vocab, merges
// by rank (model-reference.md §3.6) and a cache of recent pieces.
// encode_piece is thread-safe (the cache is sharded behind mutexes).
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policies/internal/bpe_hash_maps.h"

namespace grpo::policies::internal {

class BpeModel {
 public:
  BpeModel();
  ~BpeModel();
  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;

  // Builds from the JSON value of "model". Throws grpo::Error naming the key
  // (missing vocab, merges that are not "A B" pairs or name unknown tokens, ...).
  static BpeModel from_json(const nlohmann::json& model, const std::string& where);

  // Appends the ids of one pre-token given as raw bytes (mapped to the
  // byte-level alphabet here).
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

  const TokenTable& vocab() const { return vocab_; }
  size_t merge_count() const { return merges_.size(); }
  size_t memory_bytes() const;

 private:
  void merge(std::vector<int32_t>& symbols) const;
  void merge_long(std::vector<int32_t>& symbols) const;
  void initial_symbols(std::string_view piece, std::vector<int32_t>& symbols) const;

  TokenTable vocab_;
  PairMap merges_;
  std::array<int32_t, 256> byte_ids_{};  // id of each byte's byte-level character, -1 if absent
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;

  struct CacheShard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>> entries;  // GUARDED_BY(mutex)
  };
  static constexpr size_t kCacheShards = 32;
  static constexpr size_t kCacheEntriesPerShard = 2048;
  static constexpr size_t kCacheMaxPieceBytes = 64;
  std::unique_ptr<CacheShard[]> cache_;
};

}  // namespace grpo::policies::internal
