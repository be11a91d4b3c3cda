#include "policies/internal/pretokenizer_regex.h"

#include <re2/re2.h>

#include "policies/internal/tokenizer_json_error.h"
#include "policies/internal/tokenizer_utf8.h"

namespace grpo::policies::internal {
namespace {

// Unicode White_Space, as Oniguruma's \s; RE2's own \s is ASCII only.
constexpr const char* kSpaceItems = "\\t\\n\\x0B\\f\\r\\x{85}\\p{Z}";
// Oniguruma's Unicode \w: letters, marks, decimal digits, connector punctuation.
constexpr const char* kWordItems = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";
constexpr const char* kLookaheadTail = "|\\s+(?!\\S)|\\s+";

std::unique_ptr<re2::RE2> compile(const std::string& pattern, const std::string& where) {
  re2::RE2::Options options;  // UTF-8, leftmost-first (Perl-like), as Oniguruma
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  auto re = std::make_unique<re2::RE2>(pattern, options);
  if (!re->ok()) tokenizer_json_fail(where, "regex does not compile with RE2 (" + re->error() + "): " + pattern);
  return re;
}

}  // namespace

std::string onig_to_re2(const std::string& pattern, const std::string& where) {
  std::string out;
  bool in_class = false;
  bool class_start = false;  // just after '[' or '[^': a ']' here is literal
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      class_start = false;
      switch (e) {
        case 's': out += in_class ? std::string(kSpaceItems) : "[" + std::string(kSpaceItems) + "]"; continue;
        case 'w': out += in_class ? std::string(kWordItems) : "[" + std::string(kWordItems) + "]"; continue;
        case 'd': out += "\\p{Nd}"; continue;
        case 'S':
        case 'W':
        case 'D':
          if (in_class) tokenizer_json_fail(where, std::string("\\") + e + " inside a character class has no RE2 equivalent: " + pattern);
          out += e == 'S' ? "[^" + std::string(kSpaceItems) + "]" : e == 'W' ? "[^" + std::string(kWordItems) + "]" : "\\P{Nd}";
          continue;
        default:
          if (e >= '1' && e <= '9' && !in_class) tokenizer_json_fail(where, "back-references are not supported by RE2: " + pattern);
          out += c;
          out += e;
          continue;
      }
    }
    if (in_class) {
      if (c == ']' && !class_start) in_class = false;
      class_start = class_start && c == '^';
    } else if (c == '[') {
      in_class = true;
      class_start = true;
    } else if (c == '(' && i + 2 < pattern.size() && pattern[i + 1] == '?' &&
               (pattern[i + 2] == '=' || pattern[i + 2] == '!' || pattern[i + 2] == '<')) {
      tokenizer_json_fail(where, "look-around is not supported (only a trailing `\\s+(?!\\S)|\\s+` is emulated): " + pattern);
    }
    out += c;
  }
  return out;
}

SplitRegex::SplitRegex(const std::string& pattern, const std::string& where) {
  std::string body = pattern;
  const std::string tail = kLookaheadTail;
  const bool emulate = body.size() > tail.size() && body.compare(body.size() - tail.size(), tail.size(), tail) == 0;
  if (emulate) {
    // Drop `|\s+(?!\S)`, keep the final `|\s+`; the look-ahead is applied in next_match.
    const std::string prefix = body.substr(0, body.size() - tail.size());
    prefix_ = compile(onig_to_re2(prefix, where), where);
    body = prefix + "|\\s+";
  }
  re2_pattern_ = onig_to_re2(body, where);
  re_ = compile(re2_pattern_, where);
}

SplitRegex SplitRegex::literal(const std::string& text, const std::string& where) {
  SplitRegex r;
  r.re2_pattern_ = re2::RE2::QuoteMeta(text);
  r.re_ = compile(r.re2_pattern_, where);
  return r;
}

SplitRegex::~SplitRegex() = default;
SplitRegex::SplitRegex(SplitRegex&&) noexcept = default;
SplitRegex& SplitRegex::operator=(SplitRegex&&) noexcept = default;

bool SplitRegex::next_match(std::string_view text, size_t& pos, size_t& begin, size_t& end) const {
  const re2::StringPiece input(text.data(), text.size());
  while (pos <= text.size()) {
    re2::StringPiece m;
    if (!re_->Match(input, pos, text.size(), re2::RE2::UNANCHORED, &m, 1)) return false;
    begin = static_cast<size_t>(m.data() - text.data());
    end = begin + m.size();
    if (end == begin) {
      // Empty match: report it, and resume one character later (as find_iter does).
      size_t len = 1;
      if (begin < text.size()) utf8_decode(text, begin, len);
      pos = begin + len;
      return true;
    }
    if (prefix_ && end < text.size()) {
      size_t first_len = 0;
      // `\s+(?!\S)` on a run that does not end the piece gives back its last
      // character; only when the run came from the final `\s+` (the earlier
      // alternatives do not match here), and it has at least two characters.
      if (is_unicode_whitespace(utf8_decode(text, begin, first_len)) && end - begin > first_len &&
          !prefix_->Match(input, begin, text.size(), re2::RE2::ANCHOR_START, nullptr, 0)) {
        size_t last = end - 1;
        while (last > begin && (static_cast<unsigned char>(text[last]) & 0xC0) == 0x80) --last;
        end = last;
      }
    }
    pos = end;
    return true;
  }
  return false;
}

}  // namespace grpo::policies::internal
