#include "rollout/stop_criteria.h"

#include <algorithm>

#include "core/error.h"

namespace grpo::rollout {

const char* finish_reason_name(FinishReason reason) { return reason == FinishReason::kStop ? "stop" : "length"; }

StopCriteria::StopCriteria(const SamplingParams& params, DecodeFn decode) : params_(params), decode_(std::move(decode)) {
  for (const std::string& s : params_.stop_strings) longest_stop_ = std::max(longest_stop_, s.size());
  if (longest_stop_ > 0 && !decode_)
    throw Error("stop strings " + params_.stop_strings.front() + "... need a tokenizer to decode completions; none was given");
}

bool StopCriteria::is_stop_token(int64_t id) const {
  return std::find(params_.stop_token_ids.begin(), params_.stop_token_ids.end(), id) != params_.stop_token_ids.end();
}

std::string StopCriteria::decode(const std::vector<int64_t>& ids) const { return decode_ ? decode_(ids) : std::string(); }

std::optional<std::pair<size_t, size_t>> StopCriteria::find_stop_string(const std::string& text) const {
  std::optional<std::pair<size_t, size_t>> best;
  for (const std::string& s : params_.stop_strings) {
    size_t at = text.find(s);
    if (at != std::string::npos && (!best || at < best->first)) best = std::make_pair(at, s.size());
  }
  return best;
}

std::optional<FinishReason> StopCriteria::check(const std::vector<int64_t>& ids) const {
  if (ids.empty()) return std::nullopt;
  if (is_stop_token(ids.back())) return FinishReason::kStop;
  if (longest_stop_ > 0) {
    // Every token decodes to at least one byte, so a stop string completed by
    // the newest token lies within the last longest_stop_ tokens; one more
    // token of context keeps a partial UTF-8 sequence at the window start
    // from hiding it. Earlier occurrences were caught at earlier steps.
    size_t window = std::min(ids.size(), longest_stop_ + 1);
    std::vector<int64_t> tail(ids.end() - static_cast<std::ptrdiff_t>(window), ids.end());
    if (find_stop_string(decode(tail))) return FinishReason::kStop;
  }
  if (static_cast<int>(ids.size()) >= params_.max_new_tokens) return FinishReason::kLength;
  return std::nullopt;
}

CutCompletion StopCriteria::finish(std::vector<int64_t> ids, std::vector<float> logprobs, FinishReason reason) const {
  CutCompletion out;
  out.finish_reason = reason;
  bool stop_token = !ids.empty() && reason == FinishReason::kStop && is_stop_token(ids.back());
  std::vector<int64_t> text_ids(ids.begin(), ids.end() - (stop_token ? 1 : 0));
  std::string text = decode(text_ids);
  auto hit = stop_token ? std::nullopt : find_stop_string(text);
  if (hit) {
    out.finish_reason = FinishReason::kStop;
    size_t limit = params_.include_stop_string ? hit->first + hit->second : hit->first;
    // Longest prefix of ids whose text stays within `limit` bytes (exclude) or
    // the shortest one that reaches it (include).
    size_t keep = ids.size();
    if (params_.include_stop_string) {
      keep = 1;
      while (keep < ids.size() && decode({ids.begin(), ids.begin() + keep}).size() < limit) ++keep;
    } else {
      while (keep > 0 && decode({ids.begin(), ids.begin() + keep}).size() > limit) --keep;
    }
    ids.resize(keep);
    text_ids = ids;
    text = decode(text_ids);
  }
  logprobs.resize(ids.size());
  out.ids = std::move(ids);
  out.logprobs = std::move(logprobs);
  out.text = std::move(text);
  return out;
}

}  // namespace grpo::rollout
