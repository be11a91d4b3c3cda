// answer_sample.h: the Sample most reward tests grade: a completion for a
// dataset row that has only an "answer" column.
#pragma once

#include <string>

#include "rewards/reward.h"

namespace grpo::rewards::test {

// A Sample of `completion` whose row is {"answer": answer}.
inline Sample answer_sample(const std::string& completion, const std::string& answer) {
  Sample s;
  s.completion = completion;
  s.row = {{"answer", answer}};
  return s;
}

}  // namespace grpo::rewards::test
