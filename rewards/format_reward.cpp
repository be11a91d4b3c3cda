// format_reward.cpp: see format_reward.h.
#include "rewards/format_reward.h"

#include <re2/re2.h>

#include "core/error.h"
#include "rewards/reward_params.h"

namespace grpo::rewards {

namespace {

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace

FormatReward::FormatReward(Mode mode, bool think_prefilled) : mode_(mode), think_prefilled_(think_prefilled) {
  compile();
}

FormatReward::FormatReward(const RewardSpec& spec) {
  Params p(spec);
  std::string mode = p.text("mode", "lenient");
  if (mode == "strict") {
    mode_ = Mode::kStrict;
  } else if (mode == "lenient") {
    mode_ = Mode::kLenient;
  } else {
    p.fail("mode", "must be \"strict\" or \"lenient\", got \"" + mode + "\"");
  }
  think_prefilled_ = p.boolean("think_prefilled", false);
  p.finish();
  compile();
}

FormatReward::~FormatReward() = default;

void FormatReward::compile() {
  // (?s): '.' matches newlines, as re.DOTALL in open-r1.
  const char* strict = R"((?s)<think>\n.*\n</think>\n<answer>\n.*\n</answer>)";
  const char* lenient = R"((?s).*<think>.*</think>\s*<answer>.*</answer>.*)";
  pattern_ = std::make_unique<re2::RE2>(mode_ == Mode::kStrict ? strict : lenient);
  if (!pattern_->ok()) throw Error("format reward: bad built-in pattern: " + pattern_->error());
}

bool FormatReward::matches(const std::string& completion) const {
  std::string text = think_prefilled_ ? "<think>" + completion : completion;
  if (mode_ == Mode::kStrict) {
    // DEVIATION: open-r1's regex alone accepts two answer blocks (".*?" can
    // span "</answer>\n<answer>"); strict here also requires each tag once.
    for (const char* tag : {"<think>", "</think>", "<answer>", "</answer>"}) {
      if (count_of(text, tag) != 1) return false;
    }
  }
  return re2::RE2::FullMatch(text, *pattern_);
}

RewardResult FormatReward::score(const Sample& sample) const {
  return RewardResult::of(matches(sample.completion) ? 1.0 : 0.0);
}

}  // namespace grpo::rewards
