// command_reward.cpp: see command_reward.h for the protocol.
#include "rewards/command_reward.h"

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "rewards/internal/child_process.h"
#include "rewards/reward_params.h"

namespace grpo::rewards {

namespace {

constexpr size_t kQuotedLineChars = 120;  // how much of a bad line an error message quotes

std::string quoted(const std::string& line) {
  return "'" + (line.size() > kQuotedLineChars ? line.substr(0, kQuotedLineChars) + "..." : line) + "'";
}

std::string request_lines(const std::vector<Sample>& samples) {
  std::string out;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    nlohmann::json j = {{"id", i},
                        {"prompt", s.prompt},
                        {"completion", s.completion},
                        {"completion_tokens", s.completion_tokens},
                        {"finish_reason", s.finish_reason},
                        {"row", s.row}};
    // Invalid UTF-8 in a completion must not stop the batch: replace it.
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

}  // namespace

CommandReward::CommandReward(std::vector<std::string> command, double timeout_s)
    : command_(std::move(command)), timeout_s_(timeout_s) {
  if (command_.empty()) throw Error("command reward: empty command");
}

CommandReward::CommandReward(const RewardSpec& spec) {
  Params p(spec);
  command_ = spec.command;
  if (command_.empty())
    throw ConfigError("", "rewards[" + (spec.name.empty() ? spec.type : spec.name) + "].command",
                      "a command reward needs \"command\": [\"python3\", \"my_reward.py\"]");
  timeout_s_ = p.number("timeout_s", 0.8 * spec.timeout_s);
  if (timeout_s_ <= 0) p.fail("timeout_s", "must be > 0 seconds");
  p.finish();
}

CommandReward::~CommandReward() = default;

int CommandReward::starts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return starts_;
}

RewardResult CommandReward::score(const Sample& sample) const { return score_batch({sample}).front(); }

std::vector<RewardResult> CommandReward::score_batch(const std::vector<Sample>& samples) const {
  if (samples.empty()) return {};
  std::lock_guard<std::mutex> lock(mutex_);
  return run_batch(samples);
}

std::vector<RewardResult> CommandReward::run_batch(const std::vector<Sample>& samples) const {
  const std::string who = "command reward '" + command_.back() + "'";
  std::vector<RewardResult> results(samples.size(), RewardResult::failed(""));
  std::vector<bool> answered(samples.size(), false);
  auto fail_rest = [&](const std::string& why) {
    for (size_t i = 0; i < samples.size(); ++i)
      if (!answered[i]) results[i] = RewardResult::failed(who + ": " + why);
    return results;
  };
  if (!child_) {
    try {
      child_ = std::make_unique<internal::ChildProcess>(command_, std::vector<std::string>{"PYTHONUNBUFFERED=1"});
      ++starts_;
    } catch (const Error& e) {
      return fail_rest(e.what());
    }
  }
  using Io = internal::ChildProcess::Io;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s_));
  auto restart = [&](const std::string& why) {
    child_->kill_now();
    std::string how = child_->exit_description();
    child_.reset();  // a fresh process is started for the next batch
    GRPO_LOG_WARN("rewards", who << ": " << why << (how.empty() ? "" : " (" + how + ")") << "; restarting it");
    return fail_rest(why + (how.empty() ? "" : " (" + how + ")") + "; the process is restarted for the next batch");
  };

  std::vector<std::string> lines;
  Io io = child_->write_all(request_lines(samples), &lines, deadline);
  size_t used = 0, remaining = samples.size();
  for (;;) {
    for (; used < lines.size(); ++used) {
      const std::string& line = lines[used];
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      const bool has_id = j.is_object() && j.contains("id") && j["id"].is_number_integer();
      const int64_t id = has_id ? j["id"].get<int64_t>() : -1;
      const bool has_score = j.is_object() && j.contains("score") && j["score"].is_number();
      const bool has_error = j.is_object() && j.contains("error") && j["error"].is_string();
      if (!has_id || id < 0 || id >= static_cast<int64_t>(samples.size()) || answered[static_cast<size_t>(id)] ||
          !(has_score || has_error))
        return restart("bad output line " + quoted(line) +
                       ": expected one JSON object per sample, {\"id\": <id of the request>, \"score\": <number>} "
                       "(print debug output to stderr)");
      RewardResult r = has_score ? RewardResult::of(j["score"].get<double>())
                                 : RewardResult::failed(who + ": " + j["error"].get<std::string>());
      if (has_score && !std::isfinite(r.score)) r = RewardResult::failed(who + ": non-finite score");
      results[static_cast<size_t>(id)] = r;
      answered[static_cast<size_t>(id)] = true;
      --remaining;
    }
    if (remaining == 0) return results;
    if (io == Io::kTimeout) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", timeout_s_);
      return restart("no answer within " + std::string(buf) + " s (params.timeout_s)");
    }
    if (io == Io::kClosed) return restart("the process ended before answering every sample");
    io = child_->read_lines(lines.size() + 1, &lines, deadline);
  }
}

}  // namespace grpo::rewards
