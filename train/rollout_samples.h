// rollout_samples.h: the records between the rollout and the reward pool, for
// training steps and evaluations alike: dataset rows -> group requests (the
// template applied, one seed per group), completions -> reward samples, and
// graded completions -> the rows the run store keeps.
//
//   auto requests = group_requests(data, rows, tpl, "question", /*n=*/8, params, run_seed, /*stream=*/step);
//   auto results = engine.generate(requests);
//   auto samples = reward_samples(data, rows, requests, results, tokenizer);
//   auto scored = pool.score(samples);
//   auto records = sample_records(results, samples, scored, pool.names(), advantages, /*limit=*/-1);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dataset.h"
#include "core/run_store.h"
#include "policies/prompt_template.h"
#include "policies/tokenizer.h"
#include "rewards/reward_pool.h"
#include "rollout/generation_types.h"

namespace grpo::train {

// One request per row (id = position in `rows`), `n` completions each, sampled
// with `params` and seed mix_seed(seed, stream * 100003 + first_group +
// position): the seeds depend on (seed, stream, group number) only, so a
// resumed run or a repeated evaluation samples exactly what the first one did,
// however the groups were split into calls.
std::vector<rollout::GroupRequest> group_requests(const Dataset& data, const std::vector<size_t>& rows,
                                                  const policies::PromptTemplate& tpl, const std::string& prompt_field,
                                                  int n, const rollout::SamplingParams& params, uint64_t seed,
                                                  uint64_t stream, uint64_t first_group = 0);

// The reward samples of one group's completions, each carrying `row` (the
// dataset fields: gold answer, nums, tests, ...).
std::vector<rewards::Sample> group_reward_samples(const std::string& prompt, const nlohmann::json& row,
                                                  const rollout::GroupResult& result);

// One reward sample per completion, groups contiguous in the order of `results`;
// each carries its row's fields (gold answer, nums, tests, ...).
std::vector<rewards::Sample> reward_samples(const Dataset& data, const std::vector<size_t>& rows,
                                            const std::vector<rollout::GroupRequest>& requests,
                                            const std::vector<rollout::GroupResult>& results,
                                            const policies::Tokenizer& tokenizer);

// The store's rows of graded completions: at most `limit` of them (-1 = all).
// `advantages` is per completion, or empty where there are none (evaluation).
std::vector<SampleRecord> sample_records(const std::vector<rollout::GroupResult>& results,
                                         const std::vector<rewards::Sample>& samples,
                                         const std::vector<rewards::ScoredSample>& scored,
                                         const std::vector<std::string>& component_names,
                                         const std::vector<double>& advantages, int64_t limit);

}  // namespace grpo::train
