// math_extract.cpp: see math_extract.h.
#include "rewards/math_extract.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "rewards/internal/math_text.h"

namespace grpo::rewards::math {

namespace {

std::string lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Box {
  size_t start = 0, end = 0;  // [start, end) covers "\boxed{...}"
  std::string content;
};

// The matching '}' of every '{' (escaped "\{" skipped), found with one stack
// pass, so that many unbalanced boxes cost linear time, not quadratic.
class BraceMatcher {
 public:
  explicit BraceMatcher(const std::string& text) {
    std::vector<size_t> stack;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '{' || text[i + 1] == '}')) {
        ++i;
        continue;
      }
      if (c == '{') {
        stack.push_back(opens_.size());
        opens_.push_back(i);
        closes_.push_back(std::string::npos);
      } else if (c == '}' && !stack.empty()) {
        closes_[stack.back()] = i;
        stack.pop_back();
      }
    }
  }
  // Position of the '}' closing the '{' at `open`, or npos.
  size_t close_of(size_t open) const {
    auto it = std::lower_bound(opens_.begin(), opens_.end(), open);
    if (it == opens_.end() || *it != open) return std::string::npos;
    return closes_[static_cast<size_t>(it - opens_.begin())];
  }

 private:
  std::vector<size_t> opens_, closes_;
};

// Every \boxed{…}/\fbox{…} in one left-to-right pass (nested boxes are
// skipped with their parent: the scan resumes after the parent's brace).
std::vector<Box> find_boxes(const std::string& text) {
  std::vector<Box> boxes;
  // Each marker's next position is searched again only once the scan passes
  // it: re-searching an absent "\\fbox" from every box made this quadratic.
  size_t b = text.find("\\boxed");
  size_t f = text.find("\\fbox");
  if (b == std::string::npos && f == std::string::npos) return boxes;
  BraceMatcher braces(text);
  size_t at = 0;
  while (at < text.size()) {
    if (b < at) b = text.find("\\boxed", at);
    if (f < at) f = text.find("\\fbox", at);
    size_t pos = std::min(b, f);
    if (pos == std::string::npos) break;
    size_t open = pos + (pos == b ? 6 : 5);
    while (open < text.size() && text[open] == ' ') ++open;
    Box box;
    box.start = pos;
    size_t close = open < text.size() && text[open] == '{' ? braces.close_of(open) : std::string::npos;
    if (close != std::string::npos) {
      box.content = text.substr(open + 1, close - open - 1);
      box.end = close + 1;
      boxes.push_back(box);
      at = box.end;
    } else if (open < text.size() && pos == b && text[open] != '{') {
      // "\boxed 5": a single token after a space.
      size_t e = open;
      while (e < text.size() && !std::isspace(static_cast<unsigned char>(text[e])) && text[e] != '$') ++e;
      box.content = text.substr(open, e - open);
      box.end = e;
      if (!box.content.empty()) boxes.push_back(box);
      at = std::max(e, open + 1);
    } else {
      at = open;  // unbalanced: a truncated completion; nothing usable here
    }
  }
  return boxes;
}

// Whether the text between two boxes only joins them ("$ or $", ", ", " and ").
bool only_connective(const std::string& between) {
  std::string rest;
  for (char c : between) {
    if (c == '$' || c == ',' || c == ';' || std::isspace(static_cast<unsigned char>(c))) continue;
    rest += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return rest.empty() || rest == "or" || rest == "and";
}

// Boxes of the final answer: the last one and those before it that are only
// joined to it by connectives ("\boxed{3} or \boxed{4}"): a hedge the grader
// must see. Identical candidates count once.
std::string join_final_boxes(const std::string& text, const std::vector<Box>& boxes) {
  size_t first = boxes.size() - 1;
  while (first > 0 && only_connective(text.substr(boxes[first - 1].end, boxes[first].start - boxes[first - 1].end)))
    --first;
  std::vector<std::string> distinct;
  for (size_t i = first; i < boxes.size(); ++i) {
    std::string c = trim(boxes[i].content);
    if (std::find(distinct.begin(), distinct.end(), c) == distinct.end()) distinct.push_back(c);
  }
  std::string out;
  for (size_t i = 0; i < distinct.size(); ++i) out += (i ? " \\text{ or } " : "") + distinct[i];
  return out;
}

// Text after the last `marker` up to the end of its sentence or line.
bool after_last(const std::string& text, const std::string& lowered, const std::string& marker, std::string* out) {
  size_t at = lowered.rfind(marker);
  if (at == std::string::npos) return false;
  size_t start = at + marker.size();
  size_t end = start;
  int depth = 0;
  bool in_math = false;
  for (; end < text.size(); ++end) {
    char c = text[end];
    if (c == '\n') break;
    if (c == '$') in_math = !in_math;
    if (c == '{' || c == '(' || c == '[') ++depth;
    if (c == '}' || c == ')' || c == ']') --depth;
    // A period ends the sentence unless it is a decimal point or inside math.
    if (c == '.' && depth <= 0 && !in_math &&
        (end + 1 >= text.size() || std::isspace(static_cast<unsigned char>(text[end + 1])))) break;
  }
  *out = trim(text.substr(start, end - start));
  while (!out->empty() && (out->front() == ':' || out->front() == ' ')) out->erase(0, 1);
  *out = trim(*out);
  return !out->empty();
}

// The last number ("-3", "1,234.5", "2/3") in the text, scanning backwards once.
bool last_number(const std::string& text, std::string* out) {
  size_t i = text.size();
  while (i > 0 && !std::isdigit(static_cast<unsigned char>(text[i - 1]))) --i;
  if (i == 0) return false;
  size_t end = i;
  while (i > 0) {
    char c = text[i - 1];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      --i;
    } else if ((c == '.' || c == ',' || c == '/') && i >= 2 && std::isdigit(static_cast<unsigned char>(text[i - 2]))) {
      --i;
    } else {
      break;
    }
  }
  if (i > 0 && text[i - 1] == '-') --i;
  *out = text.substr(i, end - i);
  return true;
}

}  // namespace

bool brace_group(const std::string& text, size_t open, std::string* content, size_t* end) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '{' || text[i + 1] == '}')) {
      ++i;  // an escaped brace, "\{", is content
      continue;
    }
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) {
      *content = text.substr(open + 1, i - open - 1);
      *end = i + 1;
      return true;
    }
  }
  return false;
}

AnswerText extract_answer(const std::string& completion, const ExtractOptions& options) {
  AnswerText a;
  std::vector<Box> boxes = find_boxes(completion);
  if (!boxes.empty()) {
    a.found = true;
    a.text = trim(join_final_boxes(completion, boxes));
    a.how = "boxed";
    return a;
  }
  size_t close = completion.rfind("</answer>");
  size_t open = completion.rfind("<answer>", close == std::string::npos ? std::string::npos : close);
  if (open != std::string::npos) {
    size_t from = open + 8;
    size_t to = close == std::string::npos || close < from ? completion.size() : close;
    a.found = true;
    a.text = trim(completion.substr(from, to - from));
    a.how = "answer_tag";
    return a;
  }
  size_t hashes = completion.rfind("####");
  if (hashes != std::string::npos) {
    size_t end = completion.find('\n', hashes);
    a.found = true;
    a.text = trim(completion.substr(hashes + 4, end == std::string::npos ? std::string::npos : end - hashes - 4));
    a.how = "gsm8k";
    return a;
  }
  const std::string lowered = lower(completion);
  for (const char* marker : {"final answer is", "answer is", "final answer:", "answer:"}) {
    if (after_last(completion, lowered, marker, &a.text)) {
      a.found = true;
      a.how = "answer_is";
      return a;
    }
  }
  if (options.last_number_fallback && last_number(completion, &a.text)) {
    a.found = true;
    a.how = "last_number";
    return a;
  }
  return a;
}

std::string extract_gold(const std::string& gold) {
  std::vector<Box> boxes = find_boxes(gold);
  if (!boxes.empty()) return trim(boxes.back().content);
  size_t hashes = gold.rfind("####");
  if (hashes != std::string::npos) return trim(gold.substr(hashes + 4));
  return trim(gold);
}

}  // namespace grpo::rewards::math
