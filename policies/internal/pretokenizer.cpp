#include "policies/internal/pretokenizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "policies/internal/tokenizer_json_error.h"

namespace grpo::policies::internal {
namespace {

// GPT-2's pattern, which ByteLevel applies itself when use_regex is true.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

bool flag(const nlohmann::json& v, const char* key, bool fallback) {
  auto it = v.find(key);
  return it == v.end() || it->is_null() ? fallback : it->get<bool>();
}

SplitBehavior parse_behavior(const nlohmann::json& v, const std::string& where) {
  const std::string b = v.value("behavior", std::string("Isolated"));
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  tokenizer_json_fail(where + ".behavior", "unknown split behavior \"" + b + "\"; expected Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous");
}

struct Span {
  size_t begin, end;
  bool match;
};

// The gap/match spans of one piece, in order, covering it entirely.
void spans_of(const PreTokenizerStep& step, std::string_view piece, std::vector<Span>& spans) {
  size_t prev = 0;
  step.regex->for_each_match(piece, [&](size_t b, size_t e) {
    if (b != prev) spans.push_back({prev, b, step.invert});
    spans.push_back({b, e, !step.invert});
    prev = e;
  });
  if (prev != piece.size()) spans.push_back({prev, piece.size(), step.invert});
}

// Merges spans as tokenizers' SplitDelimiterBehavior does (normalizer.rs `split`).
void merge_spans(SplitBehavior behavior, std::vector<Span>& spans) {
  std::vector<Span> acc;
  acc.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      return;
    case SplitBehavior::kRemoved:
      for (const Span& s : spans)
        if (!s.match) acc.push_back(s);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        if (s.match && !previous_match && !acc.empty()) acc.back().end = s.end;
        else acc.push_back(s);
        previous_match = s.match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (size_t i = spans.size(); i-- > 0;) {
        const Span& s = spans[i];
        if (s.match && !previous_match && !acc.empty()) acc.back().begin = s.begin;
        else acc.push_back(s);
        previous_match = s.match;
      }
      std::reverse(acc.begin(), acc.end());
      break;
    case SplitBehavior::kContiguous:
      for (const Span& s : spans) {
        if (s.match == previous_match && !acc.empty()) acc.back().end = s.end;
        else acc.push_back(s);
        previous_match = s.match;
      }
      break;
  }
  spans.swap(acc);
}

}  // namespace

void split_piece(const PreTokenizerStep& step, std::string_view piece, std::vector<std::string_view>& out) {
  if (step.behavior == SplitBehavior::kIsolated && !step.invert) {
    // Hot path: every gap and every match is a piece.
    size_t prev = 0;
    step.regex->for_each_match(piece, [&](size_t b, size_t e) {
      if (b != prev) out.push_back(piece.substr(prev, b - prev));
      if (e != b) out.push_back(piece.substr(b, e - b));
      prev = e;
    });
    if (prev != piece.size()) out.push_back(piece.substr(prev));
    return;
  }
  std::vector<Span> spans;
  spans_of(step, piece, spans);
  merge_spans(step.behavior, spans);
  for (const Span& s : spans)
    if (s.end > s.begin) out.push_back(piece.substr(s.begin, s.end - s.begin));
}

PreTokenizer PreTokenizer::from_json(const nlohmann::json& value, const std::string& where) {
  PreTokenizer p;
  if (!value.is_null()) add_step(p, value, where);
  return p;
}

void PreTokenizer::add_step(PreTokenizer& p, const nlohmann::json& v, const std::string& where) {
  if (!v.is_object() || !v.contains("type") || !v["type"].is_string()) tokenizer_json_fail(where, "expected an object with a \"type\"");
  const std::string type = v["type"].get<std::string>();
  if (type == "Sequence") {
    const auto it = v.find("pretokenizers");
    if (it == v.end() || !it->is_array()) tokenizer_json_fail(where + ".pretokenizers", "a Sequence needs an array \"pretokenizers\"");
    for (size_t i = 0; i < it->size(); ++i) add_step(p, (*it)[i], where + ".pretokenizers[" + std::to_string(i) + "]");
    return;
  }
  PreTokenizerStep step;
  if (type == "Split") {
    const auto pat = v.find("pattern");
    if (pat == v.end() || !pat->is_object()) tokenizer_json_fail(where + ".pattern", "a Split needs {\"Regex\": ...} or {\"String\": ...}");
    if (pat->contains("Regex")) {
      step.regex = std::make_unique<SplitRegex>((*pat)["Regex"].get<std::string>(), where + ".pattern.Regex");
    } else if (pat->contains("String")) {
      step.regex = std::make_unique<SplitRegex>(SplitRegex::literal((*pat)["String"].get<std::string>(), where + ".pattern.String"));
    } else {
      tokenizer_json_fail(where + ".pattern", "a Split needs {\"Regex\": ...} or {\"String\": ...}");
    }
    step.behavior = parse_behavior(v, where);
    step.invert = flag(v, "invert", false);
  } else if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::kByteLevel;
    step.add_prefix_space = flag(v, "add_prefix_space", true);
    if (flag(v, "use_regex", true)) step.regex = std::make_unique<SplitRegex>(kGpt2Pattern, where + " (ByteLevel use_regex)");
    p.byte_level_ = true;
  } else {
    tokenizer_json_fail(where + ".type", "unknown pre-tokenizer type \"" + type + "\"; supported: Sequence, Split, ByteLevel");
  }
  p.steps_.push_back(std::move(step));
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out, std::deque<std::string>& arena) const {
  if (text.empty()) return;
  const size_t first = out.size();
  out.push_back(text);
  std::vector<std::string_view> next;
  for (const PreTokenizerStep& step : steps_) {
    if (!step.regex && !step.add_prefix_space) continue;  // ByteLevel without regex: mapping happens in BPE
    next.clear();
    for (size_t i = first; i < out.size(); ++i) {
      std::string_view piece = out[i];
      if (step.add_prefix_space && piece.front() != ' ') {
        arena.push_back(" " + std::string(piece));
        piece = arena.back();
      }
      if (step.regex) split_piece(step, piece, next);
      else next.push_back(piece);
    }
    out.resize(first);
    out.insert(out.end(), next.begin(), next.end());
  }
}

}  // namespace grpo::policies::internal
