// pretokenizer_regex.h: a tokenizer.json `Split` regex (Oniguruma syntax, as
// Hugging Face `tokenizers` runs it) compiled for RE2, with the exact
// emulation of the `\s+(?!\S)` look-ahead that RE2 lacks
// (model-reference.md §3.4). Thread-safe after construction.
//
//   SplitRegex re(R"(\p{N}{1,3})", "pre_tokenizer.pretokenizers[0].pattern.Regex");
//   re.for_each_match(text, [&](size_t begin, size_t end) { ... });
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace grpo::policies::internal {

class SplitRegex {
 public:
  // `pattern` is Oniguruma syntax; `where` names its place in tokenizer.json
  // for error messages. Throws grpo::Error when RE2 cannot run it exactly.
  SplitRegex(const std::string& pattern, const std::string& where);
  // A literal string (tokenizer.json `{"String": ...}`).
  static SplitRegex literal(const std::string& text, const std::string& where);
  ~SplitRegex();
  SplitRegex(SplitRegex&&) noexcept;
  SplitRegex& operator=(SplitRegex&&) noexcept;

  // Calls on_match(begin, end) for each match of the pattern in `text`, left
  // to right, non-overlapping, as Oniguruma's find_iter would report them.
  template <class F> void for_each_match(std::string_view text, F&& on_match) const {
    size_t pos = 0, begin = 0, end = 0;
    while (next_match(text, pos, begin, end)) on_match(begin, end);
  }

  // The pattern RE2 runs (after translation), for tests and messages.
  const std::string& re2_pattern() const { return re2_pattern_; }

 private:
  SplitRegex() = default;
  // Finds the next match at or after `pos`; advances `pos` past it.
  bool next_match(std::string_view text, size_t& pos, size_t& begin, size_t& end) const;

  std::string re2_pattern_;
  std::unique_ptr<re2::RE2> re_;
  // Set when the pattern ended in `|\s+(?!\S)|\s+`: the alternatives before it,
  // anchored, to tell whether a whitespace match came from the final `\s+`.
  std::unique_ptr<re2::RE2> prefix_;
};

// Rewrites Oniguruma escapes whose meaning differs in RE2 (\s, \S, \d, \w, ...)
// into explicit Unicode classes. Throws grpo::Error naming `where` for
// constructs RE2 cannot express (look-around other than the emulated one,
// back-references, \S inside a class).
std::string onig_to_re2(const std::string& pattern, const std::string& where);

}  // namespace grpo::policies::internal
