#include "policies/internal/bpe_model.h"

#include <algorithm>
#include <functional>
#include <queue>

#include <nlohmann/json.hpp>

#include "policies/internal/tokenizer_json_error.h"
#include "policies/internal/tokenizer_byte_level.h"

namespace grpo::policies::internal {
namespace {

// Pieces up to this many symbols use a rank array scanned linearly; longer
// ones (long whitespace or letter runs) use a heap so the cost stays n log n.
constexpr size_t kLinearMergeLimit = 48;
constexpr uint32_t kNoRank = ~0u;

void parse_vocab(const nlohmann::json& model, const std::string& where, TokenTable& vocab) {
  const auto it = model.find("vocab");
  if (it == model.end() || !it->is_object()) tokenizer_json_fail(where + ".vocab", "missing or not an object of token -> id");
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e.value().is_number_integer()) tokenizer_json_fail(where + ".vocab[\"" + e.key() + "\"]", "id must be an integer");
    const int64_t id = e.value().get<int64_t>();
    if (id < 0 || id > (1 << 30)) tokenizer_json_fail(where + ".vocab[\"" + e.key() + "\"]", "id out of range: " + std::to_string(id));
    if (!vocab.add(e.key(), static_cast<int32_t>(id)))
      tokenizer_json_fail(where + ".vocab[\"" + e.key() + "\"]", "id " + std::to_string(id) + " is used by two tokens");
  }
}

void parse_merges(const nlohmann::json& model, const std::string& where, const TokenTable& vocab, PairMap& merges) {
  const auto it = model.find("merges");
  if (it == model.end() || !it->is_array()) tokenizer_json_fail(where + ".merges", "missing or not an array");
  merges.reserve(it->size());
  std::string joined;
  for (size_t rank = 0; rank < it->size(); ++rank) {
    const nlohmann::json& m = (*it)[rank];
    const std::string at = where + ".merges[" + std::to_string(rank) + "]";
    std::string left, right;
    if (m.is_string()) {  // legacy "A B"
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        tokenizer_json_fail(at, "\"" + s + "\" is not two tokens separated by one space");
      left = s.substr(0, sp);
      right = s.substr(sp + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      tokenizer_json_fail(at, "expected \"A B\" or [\"A\", \"B\"], got " + m.dump());
    }
    const int32_t l = vocab.find(left), r = vocab.find(right);
    joined = left + right;
    const int32_t n = vocab.find(joined);
    if (l < 0) tokenizer_json_fail(at, "token \"" + left + "\" is not in model.vocab");
    if (r < 0) tokenizer_json_fail(at, "token \"" + right + "\" is not in model.vocab");
    if (n < 0) tokenizer_json_fail(at, "merged token \"" + joined + "\" is not in model.vocab");
    merges.insert(l, r, {static_cast<uint32_t>(rank), n});  // a repeated pair keeps its first rank
  }
}

}  // namespace

BpeModel::BpeModel() : cache_(new CacheShard[kCacheShards]) {}
BpeModel::~BpeModel() = default;
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;

BpeModel BpeModel::from_json(const nlohmann::json& model, const std::string& where) {
  if (!model.is_object()) tokenizer_json_fail(where, "missing: tokenizer.json needs a \"model\" object (type BPE)");
  const std::string type = model.value("type", std::string("BPE"));
  if (type != "BPE") tokenizer_json_fail(where + ".type", "unsupported model type \"" + type + "\"; only BPE is supported");
  auto str = [&](const char* key) {
    auto it = model.find(key);
    return it == model.end() || it->is_null() ? std::string() : it->get<std::string>();
  };
  if (!str("continuing_subword_prefix").empty() || !str("end_of_word_suffix").empty())
    tokenizer_json_fail(where, "continuing_subword_prefix / end_of_word_suffix are not supported (byte-level BPE uses neither)");
  if (model.value("byte_fallback", false)) tokenizer_json_fail(where + ".byte_fallback", "byte_fallback BPE is not supported");
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() > 0)
    tokenizer_json_fail(where + ".dropout", "BPE dropout makes encoding random; set it to null");

  BpeModel bpe;
  parse_vocab(model, where, bpe.vocab_);
  parse_merges(model, where, bpe.vocab_, bpe.merges_);
  bpe.ignore_merges_ = model.value("ignore_merges", false);
  bpe.fuse_unk_ = model.value("fuse_unk", false);
  const std::string unk = str("unk_token");
  if (!unk.empty()) {
    bpe.unk_id_ = bpe.vocab_.find(unk);
    if (bpe.unk_id_ < 0) tokenizer_json_fail(where + ".unk_token", "\"" + unk + "\" is not in model.vocab");
  }
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    ch.push_back(static_cast<char>(b));
    bpe.byte_ids_[b] = bpe.vocab_.find(bytes_to_byte_level(ch));
  }
  return bpe;
}

void BpeModel::initial_symbols(std::string_view piece, std::vector<int32_t>& symbols) const {
  bool last_unk = false;
  for (char c : piece) {
    const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
    if (id >= 0) {
      symbols.push_back(id);
      last_unk = false;
    } else if (unk_id_ >= 0) {  // without an unk token HF drops the byte
      if (!(fuse_unk_ && last_unk)) symbols.push_back(unk_id_);
      last_unk = true;
    }
  }
}

void BpeModel::merge(std::vector<int32_t>& s) const {
  if (s.size() > kLinearMergeLimit) return merge_long(s);
  // ranks[i]: rank of merging s[i] with s[i+1]. The lowest rank merges first,
  // the leftmost on ties, exactly as tokenizers' (rank, position) heap.
  uint32_t ranks[kLinearMergeLimit];
  int32_t news[kLinearMergeLimit];
  size_t n = s.size();
  auto fill = [&](size_t i) {
    const PairMap::Value* v = merges_.find(s[i], s[i + 1]);
    ranks[i] = v ? v->rank : kNoRank;
    news[i] = v ? v->id : -1;
  };
  for (size_t i = 0; i + 1 < n; ++i) fill(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (ranks[i] < ranks[best]) best = i;
    if (ranks[best] == kNoRank) break;
    s[best] = news[best];
    for (size_t i = best + 1; i + 1 < n; ++i) {
      s[i] = s[i + 1];
      ranks[i] = ranks[i + 1];
      news[i] = news[i + 1];
    }
    --n;
    if (best + 1 < n) fill(best);
    else ranks[best] = kNoRank;
    if (best > 0) fill(best - 1);
  }
  s.resize(n);
}

void BpeModel::merge_long(std::vector<int32_t>& s) const {
  // tokenizers' Word::merge_all: symbols in a linked list, candidate merges
  // in a min-heap on (rank, position); stale candidates are skipped.
  struct Sym {
    int32_t id;
    int32_t prev, next;
    bool alive;
  };
  struct Cand {
    uint32_t rank;
    int32_t pos;
    int32_t id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  const int32_t n = static_cast<int32_t>(s.size());
  std::vector<Sym> syms(n);
  for (int32_t i = 0; i < n; ++i) syms[i] = {s[i], i - 1, i + 1 < n ? i + 1 : -1, true};
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int32_t pos) {
    const int32_t next = syms[pos].next;
    if (next < 0) return;
    if (const PairMap::Value* v = merges_.find(syms[pos].id, syms[next].id)) heap.push({v->rank, pos, v->id});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Cand top = heap.top();
    heap.pop();
    Sym& left = syms[top.pos];
    if (!left.alive || left.next < 0) continue;
    Sym& right = syms[left.next];
    const PairMap::Value* v = merges_.find(left.id, right.id);
    if (!v || v->id != top.id) continue;  // stale: a neighbour changed since
    left.id = top.id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = top.pos;
    if (left.prev >= 0) push(left.prev);
    push(top.pos);
  }
  s.clear();
  for (int32_t i = 0; i >= 0 && i < n; i = syms[i].next) s.push_back(syms[i].id);
}

void BpeModel::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    const int32_t whole = vocab_.find(bytes_to_byte_level(piece));
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  const bool cacheable = piece.size() <= kCacheMaxPieceBytes;
  CacheShard* shard = nullptr;
  std::string key;
  if (cacheable) {
    key.assign(piece);
    shard = &cache_[std::hash<std::string>()(key) % kCacheShards];
    std::lock_guard<std::mutex> lock(shard->mutex);
    auto it = shard->entries.find(key);
    if (it != shard->entries.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(piece.size());
  initial_symbols(piece, symbols);
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (shard) {
    std::lock_guard<std::mutex> lock(shard->mutex);
    if (shard->entries.size() < kCacheEntriesPerShard) shard->entries.emplace(std::move(key), std::move(symbols));
  }
}

size_t BpeModel::memory_bytes() const { return vocab_.memory_bytes() + merges_.memory_bytes(); }

}  // namespace grpo::policies::internal
