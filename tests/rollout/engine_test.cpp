#include "rollout/engine.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "policies/causal_lm.h"
#include "core/error.h"
#include "rollout/sampler.h"
#include "tests/rollout/tiny_engine_model.h"

namespace grpo::rollout {
namespace {

GroupRequest request(int64_t id, std::vector<int64_t> prompt, int n, double temperature, int max_new, uint64_t seed = 11) {
  GroupRequest r;
  r.id = id;
  r.prompt_ids = std::move(prompt);
  r.n = n;
  r.params.temperature = temperature;
  r.params.max_new_tokens = max_new;
  r.params.seed = seed;
  return r;
}

// A decoder for tests: token id -> one letter, so stop strings are easy to place.
std::string letters(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += static_cast<char>('a' + id % 26);
  return s;
}

torch::Tensor full_forward_last_logits(policies::CausalLM& model, const std::vector<int64_t>& ids) {
  torch::NoGradGuard g;
  auto t = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  auto pos = torch::arange(static_cast<int64_t>(ids.size()), torch::kInt64).unsqueeze(0);
  return model.forward(t, pos)[0][-1];
}

// Greedy completions of `engine` over `model` equal the argmax of the full
// forward (no cache, ATen's linear) at every step.
void expect_greedy_equals_argmax_of_full_forward(Engine& engine, policies::CausalLM& model, const std::string& arch) {
  auto out = engine.generate({request(1, {5, 17, 42, 8}, 2, 0.0, 12), request(2, {9, 1}, 1, 0.0, 12)});
  for (size_t g = 0; g < out.size(); ++g) {
    std::vector<int64_t> seq = g == 0 ? std::vector<int64_t>{5, 17, 42, 8} : std::vector<int64_t>{9, 1};
    const Completion& c = out[g].completions[0];
    ASSERT_EQ(c.ids.size(), 12u) << arch;
    for (int64_t id : c.ids) {
      EXPECT_EQ(full_forward_last_logits(model, seq).argmax().item<int64_t>(), id) << arch << " at step " << seq.size();
      seq.push_back(id);
    }
    EXPECT_EQ(out[g].completions[0].ids, out[g].completions.back().ids) << "greedy completions of a group must agree";
  }
}

TEST(EngineTest, GreedyEqualsArgmaxOfFullForwardEachStep) {
  for (const std::string arch : {"qwen2", "deepseek_v3"}) {
    auto model = tiny_engine_model(arch);
    Engine engine(model, {});
    expect_greedy_equals_argmax_of_full_forward(engine, *model, arch);
  }
}

TEST(EngineTest, GreedyWithOnednnLinearEqualsArgmaxOfFullForwardEachStep) {
  EngineOptions every_weight;
  every_weight.onednn_min_weight_elements = 0;  // decode through oneDNN, the full forward through ATen
  for (const std::string arch : {"qwen2", "deepseek_v3"}) {
    auto model = tiny_engine_model(arch);
    Engine engine(model, every_weight);
    expect_greedy_equals_argmax_of_full_forward(engine, *model, arch);
    // Weights written in place (as weight sync and the optimizer do): the next
    // generate follows them, nothing stale is kept.
    torch::NoGradGuard no_grad;
    torch::manual_seed(5);
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.05);
    expect_greedy_equals_argmax_of_full_forward(engine, *model, arch + " after a weight change");
  }
}

TEST(EngineTest, SeededSamplingIsReproducible) {
  auto model = tiny_engine_model();
  Engine engine(model, {});
  auto a = engine.generate({request(1, {3, 4, 5}, 4, 1.0, 16, 77)});
  auto b = engine.generate({request(1, {3, 4, 5}, 4, 1.0, 16, 77)});
  auto c = engine.generate({request(1, {3, 4, 5}, 4, 1.0, 16, 78)});
  for (int j = 0; j < 4; ++j) EXPECT_EQ(a[0].completions[j].ids, b[0].completions[j].ids);
  EXPECT_NE(a[0].completions[0].ids, c[0].completions[0].ids);
  EXPECT_NE(a[0].completions[0].ids, a[0].completions[1].ids) << "completions of a group use different streams";
}

TEST(EngineTest, PromptIsPrefilledOncePerGroup) {
  auto model = tiny_engine_model();
  Engine engine(model, {});
  engine.generate({request(1, {1, 2, 3, 4, 5, 6}, 8, 1.0, 4), request(2, {7, 8}, 3, 1.0, 4)});
  EXPECT_EQ(engine.stats().prefills, 2);
  EXPECT_EQ(engine.stats().prefill_tokens, 6 + 2);
  EXPECT_EQ(engine.stats().prefix_forks, 7 + 2);
  EXPECT_EQ(engine.stats().prefill_forwards, 1) << "both groups start together: one right-padded prefill";
}

TEST(EngineTest, FinishedSlotsAreRefilledAndResultsUnchanged) {
  auto model = tiny_engine_model();
  std::vector<GroupRequest> reqs = {request(1, {1, 2, 3}, 3, 1.0, 6, 5), request(2, {4, 5}, 3, 1.0, 9, 6),
                                    request(3, {6}, 2, 0.0, 4, 7)};
  Engine wide(model, {/*max_slots=*/16, /*kv_budget_tokens=*/65536});
  Engine narrow(model, {/*max_slots=*/2, /*kv_budget_tokens=*/65536});
  auto a = wide.generate(reqs);
  auto b = narrow.generate(reqs);
  EXPECT_EQ(narrow.stats().cache_slots, 2);
  EXPECT_EQ(narrow.stats().max_active, 2);
  EXPECT_GE(narrow.stats().slot_refills, 6) << "8 completions through 2 slots";
  EXPECT_EQ(narrow.stats().prefills, 3);
  for (size_t g = 0; g < reqs.size(); ++g)
    for (size_t j = 0; j < a[g].completions.size(); ++j) EXPECT_EQ(a[g].completions[j].ids, b[g].completions[j].ids) << g << "/" << j;
}

// Each group is reported once, the moment its last completion ends, with the
// result generate() returns; with one group's worth of slots the first group
// is reported while later groups have not yet decoded.
TEST(EngineTest, EachGroupIsReportedWhenItFinishes) {
  auto model = tiny_engine_model();
  std::vector<GroupRequest> reqs = {request(1, {1, 2, 3}, 2, 1.0, 6, 5), request(2, {4, 5}, 2, 1.0, 9, 6),
                                    request(3, {6}, 2, 1.0, 4, 7)};
  Engine engine(model, {/*max_slots=*/2, /*kv_budget_tokens=*/65536});
  engine.set_weight_version(4);
  std::vector<std::pair<size_t, GroupResult>> reported;
  std::vector<int64_t> decode_steps_at_report;
  GenerateHooks hooks;
  hooks.on_group_done = [&](size_t index, const GroupResult& r) {
    reported.emplace_back(index, r);
    decode_steps_at_report.push_back(engine.stats().decode_steps);
  };
  auto out = engine.generate(reqs, hooks);
  ASSERT_EQ(reported.size(), 3u);
  std::vector<bool> seen(3, false);
  for (const auto& [index, r] : reported) {
    ASSERT_LT(index, 3u);
    EXPECT_FALSE(seen[index]) << "group " << index << " reported twice";
    seen[index] = true;
    EXPECT_EQ(r.id, out[index].id);
    EXPECT_EQ(r.weight_version, 4);
    ASSERT_EQ(r.completions.size(), out[index].completions.size());
    for (size_t j = 0; j < r.completions.size(); ++j) EXPECT_EQ(r.completions[j].ids, out[index].completions[j].ids);
  }
  EXPECT_LT(decode_steps_at_report.front(), engine.stats().decode_steps) << "first group reported only at the end";
}

TEST(EngineTest, KvBudgetBoundsTheCache) {
  auto model = tiny_engine_model();
  Engine engine(model, {/*max_slots=*/64, /*kv_budget_tokens=*/3 * 20});
  auto out = engine.generate({request(1, {1, 2, 3, 4}, 8, 1.0, 16)});  // 20 tokens per sequence
  EXPECT_EQ(engine.stats().cache_slots, 3);
  EXPECT_LE(engine.stats().cache_slots * engine.stats().cache_max_len, 60);
  EXPECT_EQ(out[0].completions.size(), 8u);
  Engine too_small(model, {64, 10});
  EXPECT_THROW(too_small.generate({request(1, {1, 2, 3, 4}, 1, 1.0, 16)}), Error);
}

void expect_logprobs_match_learner(const std::shared_ptr<policies::CausalLM>& model, const EngineOptions& options) {
  Engine engine(model, options);
  auto req = request(1, {11, 12, 13, 14, 15}, 3, 0.7, 10, 9);
  req.params.top_p = 0.9;
  req.params.top_k = 20;
  auto out = engine.generate({req});
  for (const Completion& c : out[0].completions) {
    std::vector<int64_t> all = req.prompt_ids;
    all.insert(all.end(), c.ids.begin(), c.ids.end());
    int64_t t = static_cast<int64_t>(all.size()) - 1, p = static_cast<int64_t>(req.prompt_ids.size());
    auto ids = torch::tensor(all, torch::kInt64);
    auto tokens = ids.narrow(0, 0, t).unsqueeze(0), targets = ids.narrow(0, 1, t).unsqueeze(0);
    torch::NoGradGuard g;
    auto lp = model->token_logprobs(tokens, targets, torch::ones_like(tokens), 0.7)[0].narrow(0, p - 1, t - p + 1);
    auto ours = torch::tensor(c.logprobs, torch::kFloat32);
    EXPECT_LE((lp - ours).abs().max().item<double>(), 1e-4);
  }
}

TEST(EngineTest, LogprobsMatchLearnerRecomputation) {
  // The tiny presets' weights are below the default oneDNN threshold: ATen's linear throughout.
  expect_logprobs_match_learner(tiny_engine_model("deepseek_v3"), {});
}

TEST(EngineTest, LogprobsWithOnednnLinearMatchLearnerRecomputation) {
  EngineOptions every_weight;
  every_weight.onednn_min_weight_elements = 0;  // the engine's products through oneDNN, the learner's through ATen
  for (const char* arch : {"qwen2", "deepseek_v3"}) expect_logprobs_match_learner(tiny_engine_model(arch), every_weight);
}

TEST(EngineTest, StopStringsAndStopTokensEndCompletions) {
  auto model = tiny_engine_model();
  Engine engine(model, {}, letters);
  // Sample long completions once to find letters that occur, then stop on one.
  auto free_run = engine.generate({request(1, {2, 3}, 1, 1.0, 40, 21)});
  const Completion& f = free_run[0].completions[0];
  ASSERT_EQ(f.text, letters(f.ids));
  std::string stop(1, f.text[10]);
  size_t first = f.text.find(stop);
  auto req = request(1, {2, 3}, 1, 1.0, 40, 21);
  req.params.stop_strings = {stop};
  auto cut = engine.generate({req})[0].completions[0];
  EXPECT_EQ(cut.finish_reason, FinishReason::kStop);
  EXPECT_EQ(cut.text, f.text.substr(0, first));
  EXPECT_EQ(cut.ids, std::vector<int64_t>(f.ids.begin(), f.ids.begin() + first));
  auto by_token = request(1, {2, 3}, 1, 1.0, 40, 21);
  by_token.params.stop_token_ids = {f.ids[5]};
  auto t = engine.generate({by_token})[0].completions[0];
  size_t at = std::find(f.ids.begin(), f.ids.end(), f.ids[5]) - f.ids.begin();
  EXPECT_EQ(t.ids.size(), at + 1);
  EXPECT_EQ(t.finish_reason, FinishReason::kStop);
  EXPECT_EQ(f.finish_reason, FinishReason::kLength);
}

TEST(EngineTest, ProgressSeesEveryKeptTokenThenTheFinalCompletion) {
  auto model = tiny_engine_model();
  EngineOptions options;
  options.max_slots = 2;  // fewer slots than completions: progress also flows across slot refills
  Engine engine(model, options, letters);
  GroupRequest stopped = request(2, {3, 4}, 1, 1.0, 12);
  stopped.params.stop_strings = {"q"};
  std::map<std::pair<size_t, int>, std::vector<int64_t>> streamed;
  std::map<std::pair<size_t, int>, Completion> finished;
  GenerateHooks hooks;
  hooks.on_progress = [&](const CompletionProgress& p) {
    auto key = std::make_pair(p.request, p.index);
    ASSERT_EQ(finished.count(key), 0u) << "progress after the completion finished";
    if (p.finished) finished[key] = *p.finished;
    else streamed[key].push_back(p.token);
  };
  auto out = engine.generate({request(1, {5, 6, 7}, 3, 1.0, 9), stopped}, hooks);
  ASSERT_EQ(finished.size(), 4u) << "one final event per completion";
  for (size_t g = 0; g < out.size(); ++g) {
    for (size_t j = 0; j < out[g].completions.size(); ++j) {
      const Completion& c = out[g].completions[j];
      auto key = std::make_pair(g, static_cast<int>(j));
      EXPECT_EQ(finished[key].ids, c.ids);
      EXPECT_EQ(finished[key].text, c.text);
      // Kept tokens are every token but the last; a stop string may cut the final ids shorter.
      std::vector<int64_t> kept = streamed[key];
      ASSERT_LE(c.ids.size(), kept.size() + 1);
      EXPECT_TRUE(std::equal(c.ids.begin(), c.ids.end() - (c.ids.size() == kept.size() + 1 ? 1 : 0), kept.begin()));
    }
  }
}

}  // namespace
}  // namespace grpo::rollout
