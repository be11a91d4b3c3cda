// reward.h: the interface every reward function implements, and the records it
// reads and writes. GRPO needs no reward model: each completion is graded by
// rules (math answer, format, length, countdown, code, or the user's own).
//
//   class MyReward : public grpo::rewards::Reward {
//    public:
//     RewardResult score(const Sample& s) const override {
//       return RewardResult::of(s.completion.find("42") != std::string::npos ? 1.0 : 0.0);
//     }
//   };
//
// Thread-safety: score() and score_batch() are const and may be called from
// several pool threads at once; a reward with mutable state (a child process)
// guards it itself. A reward reports an expected failure (cannot parse, bad
// gold) as a RewardResult with an error; it may also throw, and the pool then
// scores 0 and records the message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace grpo::rewards {

// One completion to grade, with everything a rule may need.
struct Sample {
  std::string prompt;             // the rendered prompt the policy saw
  std::string completion;         // the generated text (special tokens stripped)
  int64_t completion_tokens = 0;  // length of the completion in tokens
  std::string finish_reason;      // "stop", "length" (hit max tokens) or "" when unknown
  nlohmann::json row = nlohmann::json::object();  // the dataset row: gold answer, tests, numbers, ...

  // row[key] as text: strings as they are, numbers/arrays/objects as JSON;
  // "" when the key is missing or null.
  std::string field(const std::string& key) const {
    auto it = row.find(key);
    if (it == row.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
  }
};

// The grade of one sample by one reward.
struct RewardResult {
  double score = 0.0;
  // false: this reward does not apply to the sample ("no score"); the pool
  // counts it as 0 in the total but keeps it out of the component's mean.
  bool has_score = true;
  // Non-empty when grading failed (exception, timeout, bad output); score is 0 then.
  std::string error;

  static RewardResult of(double score) { return RewardResult{score, true, ""}; }
  static RewardResult none() { return RewardResult{0.0, false, ""}; }
  static RewardResult failed(std::string error) { return RewardResult{0.0, true, std::move(error)}; }
};

// A reward function. Built from a RewardSpec by the registry (reward_registry.h).
class Reward {
 public:
  virtual ~Reward() = default;

  // Grades one sample. Must be safe to call concurrently.
  virtual RewardResult score(const Sample& sample) const = 0;

  // Grades many samples; returns one result per sample, in order. The default
  // calls score() for each; override when a batch is cheaper (one round trip
  // to a child process, one sandbox batch).
  virtual std::vector<RewardResult> score_batch(const std::vector<Sample>& samples) const {
    std::vector<RewardResult> out;
    out.reserve(samples.size());
    for (const Sample& s : samples) out.push_back(score(s));
    return out;
  }

  // True when the pool should hand this reward whole batches (score_batch)
  // rather than spreading single samples over its threads.
  virtual bool prefers_batch() const { return false; }
};

}  // namespace grpo::rewards
