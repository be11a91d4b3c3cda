// math_normalize.cpp: see math_normalize.h. Each step is one pass over the text.
#include "rewards/math_normalize.h"

#include <cctype>
#include <cstring>
#include <set>
#include <string_view>
#include <vector>

#include "rewards/internal/math_text.h"
#include "rewards/math_extract.h"

namespace grpo::rewards::math {

namespace {

bool starts_with_at(const std::string& s, size_t i, std::string_view word) {
  return s.compare(i, word.size(), word) == 0;
}

// A command name ends where letters end: "\pi2" is \pi then 2, "\pin" is not \pi.
bool command_at(const std::string& s, size_t i, std::string_view cmd) {
  if (!starts_with_at(s, i, cmd)) return false;
  size_t e = i + cmd.size();
  return !is_alpha(cmd.back()) || e >= s.size() || !is_alpha(s[e]);
}

// Units and filler words dropped when they follow the answer ("5 cm", "12 dollars").
const std::set<std::string_view>& unit_words() {
  static const std::set<std::string_view> kUnits = {
      "cm", "m", "km", "mm", "in", "inch", "inches", "ft", "feet", "foot", "yd", "yards", "mi", "miles", "meter",
      "meters", "metres", "centimeters", "kilometers", "units", "unit", "sq", "square", "cubic", "degrees",
      "degree", "dollars", "dollar", "cents", "cent", "hours", "hour", "minutes", "minute", "seconds", "second",
      "days", "day", "weeks", "years", "year", "kg", "g", "grams", "pounds", "lbs", "mph", "people", "students",
      "apples", "times", "ways", "percent", "liters", "l", "ml", "gallons", "sec", "min", "hrs", "km/h", "m/s"};
  return kUnits;
}

// Removes delimiters and presentational commands in one pass.
std::string strip_commands(const std::string& s) {
  static const char* kDropped[] = {"\\left", "\\right", "\\displaystyle", "\\limits", "\\!", "\\bigl", "\\bigr",
                                   "\\Bigl", "\\Bigr", "\\big", "\\Big"};
  static const char* kSpaces[] = {"\\qquad", "\\quad", "\\,", "\\;", "\\:", "\\ ", "~"};
  static const char* kWrappers[] = {"\\textbf{", "\\textit{", "\\textrm{", "\\text{", "\\mathrm{", "\\mathbf{",
                                    "\\mbox{", "\\operatorname{", "\\mathit{", "\\boldsymbol{", "\\mathbb{"};
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '$') { ++i; continue; }
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '(' || s[i + 1] == ')' || s[i + 1] == '[' || s[i + 1] == ']')) {
      i += 2;
      continue;
    }
    bool done = false;
    for (const char* w : kWrappers) {
      if (starts_with_at(s, i, w)) {
        std::string content;
        size_t end = 0;
        if (brace_group(s, i + std::strlen(w) - 1, &content, &end)) {
          out += ' ';
          out += strip_commands(content);
          out += ' ';
          i = end;
          done = true;
        }
        break;
      }
    }
    if (done) continue;
    for (const char* d : kDropped) {
      if (command_at(s, i, d)) { i += std::strlen(d); done = true; break; }
    }
    if (done) continue;
    for (const char* sp : kSpaces) {
      if (command_at(s, i, sp)) { out += ' '; i += std::strlen(sp); done = true; break; }
    }
    if (done) continue;
    if (command_at(s, i, "\\dfrac") || command_at(s, i, "\\tfrac")) { out += "\\frac"; i += 6; continue; }
    if (starts_with_at(s, i, "^\\circ")) { i += 6; continue; }
    if (starts_with_at(s, i, "^{\\circ}")) { i += 8; continue; }
    if (command_at(s, i, "\\circ")) { i += 5; continue; }
    if (command_at(s, i, "\\degree")) { i += 7; continue; }
    if (starts_with_at(s, i, "\xC2\xB0")) { i += 2; continue; }  // UTF-8 degree sign
    if (starts_with_at(s, i, "\\%")) { out += '%'; i += 2; continue; }
    if (starts_with_at(s, i, "\\$")) { i += 2; continue; }
    if (starts_with_at(s, i, "{,}")) { i += 3; continue; }  // 1{,}000
    out += c;
    ++i;
  }
  return out;
}

// "1,234,567" -> "1234567" when every group after a comma has exactly three
// digits and the first has one to three; "1, 2" and "(1,23)" stay lists.
std::string drop_thousands_separators(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i]) || (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.'))) {
      out += s[i++];
      continue;
    }
    size_t j = i;
    while (j < s.size() && is_digit(s[j])) ++j;
    size_t lead = j - i;
    size_t k = j, groups = 0;
    while (k + 3 < s.size() + 1 && k < s.size() && s[k] == ',' && k + 3 < s.size() + 1 && is_digit(s[k + 1]) &&
           k + 3 < s.size() && is_digit(s[k + 2]) && is_digit(s[k + 3]) && (k + 4 >= s.size() || !is_digit(s[k + 4]))) {
      k += 4;
      ++groups;
    }
    if (groups > 0 && lead <= 3) {
      for (size_t p = i; p < k; ++p)
        if (s[p] != ',') out += s[p];
    } else {
      out.append(s, i, j - i);
      k = j;
    }
    i = k;
  }
  return out;
}

std::string collapse_spaces(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Drops trailing unit words ("5 cm", "12 square feet") and trailing punctuation.
std::string drop_trailing_noise(std::string s) {
  for (;;) {
    size_t before = s.size();
    while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ';' || s.back() == ':' ||
                          s.back() == ' ' || s.back() == '?' ||
                          // "!" after a value is a factorial ("10!"), after a word an exclamation.
                          (s.back() == '!' && (s.size() < 2 || !(is_digit(s[s.size() - 2]) || s[s.size() - 2] == ')' ||
                                                                 s[s.size() - 2] == '}')))))
      s.pop_back();
    if (s.size() >= 2 && s.compare(s.size() - 2, 2, "\\.") == 0) s.resize(s.size() - 2);
    size_t sp = s.rfind(' ');
    if (sp != std::string::npos) {
      std::string word;
      for (size_t p = sp + 1; p < s.size(); ++p) word += static_cast<char>(std::tolower(static_cast<unsigned char>(s[p])));
      // Only after a value ("5 cm"), so that "x in" keeps its word.
      if (unit_words().count(word) && s.find_first_of("0123456789") < sp) s.resize(sp);
    }
    if (s.size() == before) return s;
  }
}

}  // namespace

std::string normalize_latex(const std::string& text) {
  std::string s = strip_commands(text);
  s = collapse_spaces(s);
  s = drop_trailing_noise(s);
  s = drop_thousands_separators(s);
  // Leading "x \in" / "\therefore": the answer is what follows.
  if (s.rfind("\\therefore ", 0) == 0) s = s.substr(11);
  return s;
}

}  // namespace grpo::rewards::math
