// output_compare.cpp: line, token and float-tolerant comparison.
#include "sandbox/output_compare.h"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace grpo::sandbox {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    size_t end = line.find_last_not_of(" \t\r\f\v");
    lines.push_back(end == std::string::npos ? "" : line.substr(0, end + 1));
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::vector<std::string> tokens_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string t;
  while (in >> t) out.push_back(t);
  return out;
}

bool parse_number(const std::string& s, double* value) {
  if (s.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*value);
}

bool tokens_match(const std::string& a, const std::string& b, const CompareOptions& o) {
  if (a == b) return true;
  double x, y;
  if (!o.float_tolerance || !parse_number(a, &x) || !parse_number(b, &y)) return false;
  return std::fabs(x - y) <= *o.float_tolerance * std::max(1.0, std::fabs(y));
}

bool line_matches(const std::string& a, const std::string& b, const CompareOptions& o) {
  if (a == b) return true;
  if (!o.float_tolerance) return false;
  std::vector<std::string> ta = tokens_of(a), tb = tokens_of(b);
  if (ta.size() != tb.size()) return false;
  for (size_t i = 0; i < ta.size(); ++i) {
    if (!tokens_match(ta[i], tb[i], o)) return false;
  }
  return true;
}

std::string shorten(const std::string& s) { return s.size() <= 60 ? s : s.substr(0, 57) + "..."; }

}  // namespace

CompareResult compare_output(const std::string& actual, const std::string& expected, const CompareOptions& options) {
  if (options.tokens) {
    std::vector<std::string> a = tokens_of(actual), e = tokens_of(expected);
    for (size_t i = 0; i < std::min(a.size(), e.size()); ++i) {
      if (!tokens_match(a[i], e[i], options))
        return {false, "token " + std::to_string(i + 1) + ": expected '" + shorten(e[i]) + "', got '" + shorten(a[i]) + "'"};
    }
    if (a.size() != e.size())
      return {false, "expected " + std::to_string(e.size()) + " tokens, got " + std::to_string(a.size())};
    return {true, ""};
  }
  std::vector<std::string> a = lines_of(actual), e = lines_of(expected);
  for (size_t i = 0; i < std::min(a.size(), e.size()); ++i) {
    if (!line_matches(a[i], e[i], options))
      return {false, "line " + std::to_string(i + 1) + ": expected '" + shorten(e[i]) + "', got '" + shorten(a[i]) + "'"};
  }
  if (a.size() != e.size())
    return {false, "expected " + std::to_string(e.size()) + " lines, got " + std::to_string(a.size())};
  return {true, ""};
}

}  // namespace grpo::sandbox
