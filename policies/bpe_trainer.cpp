// Byte-level BPE training: count pre-tokens, then repeatedly merge the most
// frequent adjacent pair, updating pair counts only in the words that held it.
#include "policies/bpe_trainer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policies/internal/pretokenizer.h"
#include "policies/internal/tokenizer_byte_level.h"
#include "policies/internal/tokenizer_nfc.h"

namespace grpo::policies {
namespace {

using internal::PreTokenizer;

constexpr const char* kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

nlohmann::json pre_tokenizer_json() {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", kQwenPattern}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
}

struct Word {
  std::vector<int32_t> symbols;
  int64_t count;
};

uint64_t pair_key(int32_t a, int32_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }

class Trainer {
 public:
  Trainer(std::vector<Word> words, std::vector<std::string> tokens) : words_(std::move(words)), tokens_(std::move(tokens)) {
    for (size_t w = 0; w < words_.size(); ++w) add_pairs(w, +1);
    for (const auto& [key, count] : counts_) push(key);
  }

  // Merges until `target` tokens exist or no pair reaches min_frequency.
  std::vector<std::pair<int32_t, int32_t>> run(size_t target, int64_t min_frequency) {
    std::vector<std::pair<int32_t, int32_t>> merges;
    while (tokens_.size() < target && !heap_.empty()) {
      const Entry top = heap_.top();
      heap_.pop();
      const auto it = counts_.find(top.key);
      const int64_t now = it == counts_.end() ? 0 : it->second;
      if (now != top.count) {  // stale entry: requeue with the current count
        if (now > 0) push(top.key);
        continue;
      }
      if (now < min_frequency) break;
      const auto a = static_cast<int32_t>(top.key >> 32), b = static_cast<int32_t>(top.key & 0xffffffffu);
      const auto merged = static_cast<int32_t>(tokens_.size());
      tokens_.push_back(tokens_[a] + tokens_[b]);
      merges.emplace_back(a, b);
      apply_merge(a, b, merged);
    }
    return merges;
  }
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  struct Entry {
    int64_t count;
    uint64_t key;
    const std::vector<std::string>* tokens;
    // Max-heap on count; ties: the pair whose strings sort first wins.
    bool operator<(const Entry& o) const {
      if (count != o.count) return count < o.count;
      const auto& t = *tokens;
      const std::string& la = t[key >> 32];
      const std::string& lb = t[o.key >> 32];
      if (la != lb) return la > lb;
      return t[key & 0xffffffffu] > t[o.key & 0xffffffffu];
    }
  };

  void push(uint64_t key) { heap_.push({counts_[key], key, &tokens_}); }

  void add_pairs(size_t w, int sign) {
    const Word& word = words_[w];
    for (size_t i = 0; i + 1 < word.symbols.size(); ++i) {
      const uint64_t key = pair_key(word.symbols[i], word.symbols[i + 1]);
      counts_[key] += sign * word.count;
      if (sign > 0) where_[key].insert(static_cast<uint32_t>(w));
    }
  }

  void apply_merge(int32_t a, int32_t b, int32_t merged) {
    const uint64_t key = pair_key(a, b);
    const std::unordered_set<uint32_t> holders = std::move(where_[key]);
    where_.erase(key);
    std::unordered_set<uint64_t> touched;
    for (uint32_t w : holders) {
      std::vector<int32_t>& s = words_[w].symbols;
      add_pairs(w, -1);
      std::vector<int32_t> out;
      out.reserve(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(s[i]);
        }
      }
      s.swap(out);
      add_pairs(w, +1);
      for (size_t i = 0; i + 1 < s.size(); ++i)
        if (s[i] == merged || s[i + 1] == merged) touched.insert(pair_key(s[i], s[i + 1]));
    }
    counts_.erase(key);
    for (uint64_t k : touched) push(k);
  }

  std::vector<Word> words_;
  std::vector<std::string> tokens_;  // byte-level strings by id
  std::unordered_map<uint64_t, int64_t> counts_;
  std::unordered_map<uint64_t, std::unordered_set<uint32_t>> where_;
  std::priority_queue<Entry> heap_;
};

// Pre-token counts of the corpus, as byte sequences.
std::unordered_map<std::string, int64_t> count_words(const std::vector<std::string>& texts, const BpeTrainerOptions& options) {
  const PreTokenizer pre = PreTokenizer::from_json(pre_tokenizer_json(), "pre_tokenizer");
  std::unordered_map<std::string, int64_t> counts;
  std::vector<std::string_view> pieces;
  std::deque<std::string> arena;
  for (const std::string& raw : texts) {
    std::string text = internal::nfc(raw);
    // Special and added tokens are never merged into: cut them out first.
    for (const auto* list : {&options.special_tokens, &options.added_tokens})
      for (const std::string& tok : *list)
        for (size_t at = text.find(tok); !tok.empty() && at != std::string::npos; at = text.find(tok, at)) text.replace(at, tok.size(), "\n");
    pieces.clear();
    arena.clear();
    pre.split(text, pieces, arena);
    for (std::string_view p : pieces) ++counts[std::string(p)];
  }
  return counts;
}

}  // namespace

std::string train_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& options) {
  const size_t n_special = options.special_tokens.size();
  if (options.vocab_size < static_cast<int>(256 + n_special + options.added_tokens.size()))
    throw Error("tokenizer train: --vocab " + std::to_string(options.vocab_size) + " is too small: it must hold the 256 byte tokens and " +
                std::to_string(n_special + options.added_tokens.size()) + " special/added tokens");
  // Ids: specials, then the 256 bytes, then merges, then added tokens.
  std::vector<std::string> tokens(options.special_tokens.begin(), options.special_tokens.end());
  for (int b = 0; b < 256; ++b) tokens.push_back(internal::bytes_to_byte_level(std::string(1, static_cast<char>(b))));
  std::vector<Word> words;
  for (const auto& [piece, count] : count_words(texts, options)) {
    Word w{{}, count};
    for (char c : piece) w.symbols.push_back(static_cast<int32_t>(n_special + static_cast<uint8_t>(c)));
    words.push_back(std::move(w));
  }
  // Word order only affects hash-set iteration, not the result: counts are sums.
  Trainer trainer(std::move(words), tokens);
  const auto merges = trainer.run(options.vocab_size - options.added_tokens.size(), options.min_frequency);
  const std::vector<std::string>& vocab = trainer.tokens();

  nlohmann::json vocab_json = nlohmann::json::object();
  for (size_t id = 0; id < vocab.size(); ++id) vocab_json[vocab[id]] = id;
  nlohmann::json merges_json = nlohmann::json::array();
  for (const auto& [a, b] : merges) merges_json.push_back({vocab[a], vocab[b]});
  nlohmann::json added = nlohmann::json::array();
  auto add = [&](const std::string& content, size_t id, bool special) {
    added.push_back({{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", special}});
  };
  for (size_t i = 0; i < n_special; ++i) add(options.special_tokens[i], i, true);
  for (size_t i = 0; i < options.added_tokens.size(); ++i) add(options.added_tokens[i], vocab.size() + i, false);
  const nlohmann::json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  nlohmann::json root = {{"version", "1.0"},
                         {"truncation", nullptr},
                         {"padding", nullptr},
                         {"added_tokens", added},
                         {"normalizer", {{"type", "NFC"}}},
                         {"pre_tokenizer", pre_tokenizer_json()},
                         {"post_processor", byte_level},
                         {"decoder", byte_level},
                         {"model",
                          {{"type", "BPE"},
                           {"dropout", nullptr},
                           {"unk_token", nullptr},
                           {"continuing_subword_prefix", nullptr},
                           {"end_of_word_suffix", nullptr},
                           {"fuse_unk", false},
                           {"byte_fallback", false},
                           {"ignore_merges", false},
                           {"vocab", vocab_json},
                           {"merges", merges_json}}}};
  return root.dump(1);
}

void write_tokenizer_dir(const std::string& dir, const std::string& tokenizer_json, const BpeTrainerOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(dir, "cannot create directory: " + ec.message());
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw IoError(path, "cannot write");
  };
  write("tokenizer.json", tokenizer_json);
  const auto& sp = options.special_tokens;
  auto pick = [&](const std::string& want) -> nlohmann::json {
    return std::find(sp.begin(), sp.end(), want) != sp.end() ? nlohmann::json(want) : nlohmann::json(nullptr);
  };
  const nlohmann::json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                                 {"bos_token", nullptr},
                                 {"eos_token", pick("<|im_end|>")},
                                 {"pad_token", pick("<|endoftext|>")},
                                 {"clean_up_tokenization_spaces", false},
                                 {"model_max_length", 131072}};
  write("tokenizer_config.json", config.dump(2) + "\n");
}

}  // namespace grpo::policies
