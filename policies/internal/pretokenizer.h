// pretokenizer.h: the `pre_tokenizer` of tokenizer.json: a Sequence of Split
// (regex or string, any behaviour, invert) and ByteLevel steps that cuts
// normalised text into pieces BPE handles one by one (model-reference.md §3.2).
// Thread-safe after construction.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policies/internal/pretokenizer_regex.h"

namespace grpo::policies::internal {

enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

// One step of the pre-tokenizer.
struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel } kind = Kind::kSplit;
  // kSplit (also kByteLevel with use_regex: the GPT-2 pattern, Isolated).
  std::unique_ptr<SplitRegex> regex;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  // kByteLevel: prepend ' ' to every piece that does not start with one.
  bool add_prefix_space = false;
};

class PreTokenizer {
 public:
  PreTokenizer() = default;
  // Builds from the JSON value of "pre_tokenizer" (null allowed: one piece).
  // Throws grpo::Error naming the key and the supported types.
  static PreTokenizer from_json(const nlohmann::json& value, const std::string& where);

  // Cuts `text` into pieces (views into `text` or into strings kept in `arena`
  // when a step had to add text) and appends them to `out`.
  void split(std::string_view text, std::vector<std::string_view>& out, std::deque<std::string>& arena) const;

  // Whether a ByteLevel step is present (the only kind of BPE alphabet supported).
  bool byte_level() const { return byte_level_; }

 private:
  static void add_step(PreTokenizer& p, const nlohmann::json& value, const std::string& where);
  std::vector<PreTokenizerStep> steps_;
  bool byte_level_ = false;
};

// Applies one Split step to `piece`, appending the resulting pieces.
void split_piece(const PreTokenizerStep& step, std::string_view piece, std::vector<std::string_view>& out);

}  // namespace grpo::policies::internal
