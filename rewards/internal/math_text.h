// math_text.h (rewards internal): the character and string helpers the math
// grader's parsers share (math_answer, math_expr, math_extract, math_normalize).
#pragma once

#include <cctype>
#include <string>

namespace grpo::rewards::math {

// ASCII classes through <cctype>, safe for bytes >= 0x80 (UTF-8).
inline bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
inline bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// `s` without leading and trailing whitespace.
inline std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace grpo::rewards::math
