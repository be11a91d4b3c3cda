// math_extract.h: finding the final answer in a completion, and the gold
// answer in a dataset field. Every scan is linear in the text length.
//
//   AnswerText a = extract_answer(completion, {});   // a.found, a.text ("\frac{1}{2}"), a.how
//   std::string g = extract_gold("\\boxed{5}");       // "5"; a bare gold is taken as given
//
// Order of preference (first that matches wins): the last \boxed{} (or
// \fbox{}) with nested braces; the last <answer>…</answer> (a \boxed inside it
// wins); GSM8K's last "#### N"; the last "the answer is …"/"final answer: …";
// optionally the last number in the text. Several boxes in the final answer
// line ("\boxed{3} or \boxed{4}") are joined with " or " so the grader sees a
// hedge. Pure functions: thread-safe.
#pragma once

#include <string>

namespace grpo::rewards::math {

struct ExtractOptions {
  bool last_number_fallback = true;  // Math-Verify also takes a bare last number
};

struct AnswerText {
  bool found = false;
  std::string text;  // raw answer text, LaTeX as written
  std::string how;   // "boxed", "answer_tag", "gsm8k", "answer_is", "last_number"
};

AnswerText extract_answer(const std::string& completion, const ExtractOptions& options);

// The gold field as given: the content of its last \boxed{} if it has one,
// the part after "####" for GSM8K solutions, else the whole (trimmed) text.
std::string extract_gold(const std::string& gold);

// Content of the brace group opening at text[open] == '{' (nested braces
// counted, "\{" skipped); npos-safe: returns false when unbalanced.
bool brace_group(const std::string& text, size_t open, std::string* content, size_t* end);

}  // namespace grpo::rewards::math
