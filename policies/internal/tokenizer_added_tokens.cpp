#include "policies/internal/tokenizer_added_tokens.h"

#include <algorithm>

#include <re2/re2.h>

#include "policies/internal/tokenizer_utf8.h"

namespace grpo::policies::internal {
namespace {

// The Unicode \w of Rust's regex crate (Alphabetic, marks, decimal digits,
// connector punctuation, joiners), which single_word uses for word boundaries.
bool is_word_char(uint32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') || cp == '_';
  if (cp & kInvalidByte) return false;
  static const re2::RE2 word(R"(^[\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}]$)");
  std::string s;
  utf8_append(s, cp);
  return re2::RE2::FullMatch(s, word);
}

uint32_t char_before(std::string_view text, size_t pos) {
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 && pos - start < 4) --start;
  size_t len = 0;
  return utf8_decode(text, start, len);
}

}  // namespace

void AddedTokenMatcher::build(const std::vector<const AddedToken*>& tokens, const std::vector<std::string>& patterns) {
  tokens_ = tokens;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    int32_t node = 0;
    for (char ch : p) {
      const auto b = static_cast<uint8_t>(ch);
      auto& kids = nodes_[node].children;
      auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1}),
                                 [](const auto& a, const auto& v) { return a.first < v.first; });
      if (it != kids.end() && it->first == b) {
        node = it->second;
        continue;
      }
      const auto child = static_cast<int32_t>(nodes_.size());
      kids.insert(it, {b, child});  // `kids` may dangle after the push below
      nodes_.push_back(Node{});
      node = child;
    }
    if (nodes_[node].terminal < 0) nodes_[node].terminal = static_cast<int32_t>(t);  // first one wins on duplicates
    terminals_.push_back(node);
    first_byte_[static_cast<uint8_t>(p[0])] = true;
  }
}

size_t AddedTokenMatcher::longest_at(std::string_view text, size_t pos, int32_t& token) const {
  token = -1;
  size_t end = 0;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<uint8_t>(text[i]);
    const auto& kids = nodes_[node].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1}),
                               [](const auto& a, const auto& v) { return a.first < v.first; });
    if (it == kids.end() || it->first != b) break;
    node = it->second;
    if (nodes_[node].terminal >= 0) {
      token = nodes_[node].terminal;
      end = i + 1;
    }
  }
  return end;
}

void AddedTokenMatcher::split(std::string_view text, bool skip_special, std::vector<TextSegment>& out) const {
  size_t start = 0;  // end of the previous emitted segment
  size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t t = -1;
    size_t end = longest_at(text, pos, t);
    if (t < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = *tokens_[t];
    // A rejected match still consumes its span, as tokenizers' match iterator does.
    if (skip_special && tok.special) {
      pos = end;
      continue;
    }
    if (tok.single_word) {
      size_t len = 0;
      const bool left_ok = pos == 0 || !is_word_char(char_before(text, pos));
      const bool right_ok = end == text.size() || !is_word_char(utf8_decode(text, end, len));
      if (!left_ok || !right_ok) {
        pos = end;
        continue;
      }
    }
    size_t begin = pos;
    if (tok.lstrip) {
      while (begin > start) {
        size_t b = begin - 1;
        while (b > start && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
        size_t len = 0;
        if (!is_unicode_whitespace(utf8_decode(text, b, len))) break;
        begin = b;
      }
    }
    if (tok.rstrip) {
      while (end < text.size()) {
        size_t len = 0;
        if (!is_unicode_whitespace(utf8_decode(text, end, len))) break;
        end += len;
      }
    }
    if (begin > start) out.push_back({start, begin, -1});
    out.push_back({begin, end, tok.id});
    start = pos = end;
  }
  if (start < text.size()) out.push_back({start, text.size(), -1});
}

}  // namespace grpo::policies::internal
