#include "train/rollout_samples.h"

#include "core/seeded_random.h"
#include "train/components.h"

namespace grpo::train {

std::vector<rollout::GroupRequest> group_requests(const Dataset& data, const std::vector<size_t>& rows,
                                                  const policies::PromptTemplate& tpl, const std::string& prompt_field,
                                                  int n, const rollout::SamplingParams& params, uint64_t seed,
                                                  uint64_t stream, uint64_t first_group) {
  std::vector<rollout::GroupRequest> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto ids = tpl.encode(template_row(data.row(rows[i]).fields, prompt_field));
    rollout::GroupRequest r;
    r.id = static_cast<int64_t>(i);
    r.prompt_ids.assign(ids.begin(), ids.end());
    r.n = n;
    r.params = params;
    r.params.seed = mix_seed(seed, stream * 100003 + first_group + i);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<rewards::Sample> group_reward_samples(const std::string& prompt, const nlohmann::json& row,
                                                  const rollout::GroupResult& result) {
  std::vector<rewards::Sample> samples;
  for (const auto& c : result.completions) {
    rewards::Sample s;
    s.prompt = prompt;
    s.completion = c.text;
    s.completion_tokens = static_cast<int64_t>(c.ids.size());
    s.finish_reason = rollout::finish_reason_name(c.finish_reason);
    s.row = row;
    samples.push_back(std::move(s));
  }
  return samples;
}

std::vector<rewards::Sample> reward_samples(const Dataset& data, const std::vector<size_t>& rows,
                                            const std::vector<rollout::GroupRequest>& requests,
                                            const std::vector<rollout::GroupResult>& results,
                                            const policies::Tokenizer& tokenizer) {
  std::vector<rewards::Sample> samples;
  for (size_t g = 0; g < results.size(); ++g) {
    std::string prompt =
        tokenizer.decode(std::vector<int32_t>(requests[g].prompt_ids.begin(), requests[g].prompt_ids.end()));
    for (auto& s : group_reward_samples(prompt, data.row(rows[g]).fields, results[g])) samples.push_back(std::move(s));
  }
  return samples;
}

std::vector<SampleRecord> sample_records(const std::vector<rollout::GroupResult>& results,
                                         const std::vector<rewards::Sample>& samples,
                                         const std::vector<rewards::ScoredSample>& scored,
                                         const std::vector<std::string>& component_names,
                                         const std::vector<double>& advantages, int64_t limit) {
  std::vector<SampleRecord> out;
  size_t k = 0;
  for (size_t g = 0; g < results.size(); ++g) {
    for (size_t i = 0; i < results[g].completions.size(); ++i, ++k) {
      if (limit >= 0 && static_cast<int64_t>(out.size()) >= limit) return out;
      SampleRecord r;
      r.group = static_cast<int64_t>(g);
      r.index = static_cast<int64_t>(i);
      r.prompt = samples[k].prompt;
      r.completion = samples[k].completion;
      for (size_t j = 0; j < component_names.size(); ++j) r.rewards[component_names[j]] = scored[k].components[j].score;
      r.reward = scored[k].total;
      r.advantage = advantages.empty() ? 0.0 : advantages[k];
      r.policy_version = results[g].weight_version;
      r.finish_reason = samples[k].finish_reason;
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace grpo::train
