#include "train/evaluation.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "rollout/from_config.h"
#include "train/pass_at_k.h"
#include "train/rollout_samples.h"
#include "train/step_metrics.h"

namespace grpo::train {
namespace {

// Everything generated and graded, in problem order.
struct Graded {
  std::vector<rollout::GroupResult> results;
  std::vector<rewards::Sample> samples;
  std::vector<rewards::ScoredSample> scored;
};

void append(Graded& all, Graded part, int64_t first_problem) {
  for (auto& r : part.results) {
    r.id += first_problem;  // ids restart at 0 in every batch
    all.results.push_back(std::move(r));
  }
  all.samples.insert(all.samples.end(), std::make_move_iterator(part.samples.begin()), std::make_move_iterator(part.samples.end()));
  all.scored.insert(all.scored.end(), std::make_move_iterator(part.scored.begin()), std::make_move_iterator(part.scored.end()));
}

Graded generate_and_grade(RolloutBackend& backend, const TrainComponents& c, const Recipe& recipe, const EvalOptions& o) {
  const Dataset& data = c.eval_data;
  const auto& stops = c.prompt_template->stop_ids();
  rollout::SamplingParams params = rollout::sampling_params_from(
      recipe.rollout, std::vector<int64_t>(stops.begin(), stops.end()), static_cast<uint64_t>(recipe.run.seed));
  Graded all;
  for (int64_t first = 0; first < static_cast<int64_t>(data.size()); first += o.problems_per_batch) {
    int64_t end = std::min<int64_t>(first + o.problems_per_batch, static_cast<int64_t>(data.size()));
    std::vector<size_t> rows(static_cast<size_t>(end - first));
    std::iota(rows.begin(), rows.end(), static_cast<size_t>(first));
    auto requests = group_requests(data, rows, *c.prompt_template, recipe.data.prompt_field, o.samples_per_problem, params,
                                   static_cast<uint64_t>(recipe.run.seed), /*stream=*/0, static_cast<uint64_t>(first));
    Graded part;
    part.results = backend.generate(requests, kEvaluatedVersion, {});
    part.samples = reward_samples(data, rows, requests, part.results, *c.tokenizer);
    part.scored = c.rewards->score(part.samples);
    append(all, std::move(part), first);
    GRPO_LOG_INFO("eval", end << "/" << data.size() << " problems done");
  }
  return all;
}

// pass@k of every k, averaged over problems; `correct` holds c of each problem.
void add_pass_at_k(std::map<std::string, double>& metrics, const std::vector<int64_t>& correct, const EvalOptions& o) {
  for (int64_t k : o.ks) {
    double sum = 0;
    for (int64_t c : correct) sum += pass_at_k(o.samples_per_problem, c, k);
    metrics["pass@" + std::to_string(k)] = correct.empty() ? 0.0 : sum / static_cast<double>(correct.size());
  }
}

}  // namespace

void EvalOptions::validate(bool greedy) const {
  if (samples_per_problem < 1) throw Error("--n: completions per problem must be >= 1, got " + std::to_string(samples_per_problem));
  if (greedy && samples_per_problem > 1)
    throw Error("--n " + std::to_string(samples_per_problem) +
                ": greedy decoding gives the same completion every time; sample (--temperature 0.6, say) for pass@k with n > 1");
  if (ks.empty()) throw Error("--k: give at least one k");
  for (int64_t k : ks)
    if (k < 1 || k > samples_per_problem)
      throw Error("--k " + std::to_string(k) + ": pass@k needs 1 <= k <= n = " + std::to_string(samples_per_problem) +
                  " completions per problem; raise --n");
  if (problems_per_batch < 1) throw Error("problems_per_batch must be >= 1");
}

namespace {

MetricRoles recipe_roles(const Recipe& recipe) {
  std::vector<std::string> types;
  for (const auto& r : recipe.rewards) types.push_back(r.type);
  return metric_roles(types);
}

}  // namespace

void check_evaluable(const Recipe& recipe, const TrainComponents& components) {
  if (recipe_roles(recipe).accuracy_component < 0)
    throw ConfigError("", "rewards", "accuracy and pass@k need a reward that grades correctness: add math, countdown or code");
  if (components.eval_data.size() == 0)
    throw ConfigError("", "data", "no held-out rows to evaluate: give data.eval, or data.generator with eval_size >= 1");
}

EvalResult evaluate(RolloutBackend& backend, const TrainComponents& components, const Recipe& recipe,
                    const EvalOptions& options) {
  options.validate(recipe.rollout.temperature == 0.0);
  check_evaluable(recipe, components);
  MetricRoles roles = recipe_roles(recipe);

  Graded g = generate_and_grade(backend, components, recipe, options);
  EvalResult out;
  out.problems = static_cast<int64_t>(components.eval_data.size());
  out.samples_per_problem = options.samples_per_problem;
  out.metrics = rollout_metrics(g.results, g.scored, components.rewards->names(), roles);
  std::vector<int64_t> correct;
  size_t k = 0;
  for (const auto& group : g.results) {
    int64_t c = 0;
    for (size_t i = 0; i < group.completions.size(); ++i, ++k)
      c += counts_as_correct(g.scored[k].components[roles.accuracy_component].score);
    correct.push_back(c);
  }
  add_pass_at_k(out.metrics, correct, options);
  out.samples = sample_records(g.results, g.samples, g.scored, components.rewards->names(), /*advantages=*/{}, /*limit=*/-1);
  return out;
}

void write_evaluation(RunStore& store, const EvalResult& result, const nlohmann::json& description) {
  store.set_meta("evaluation", description.dump());
  StepRecord record;
  record.step = 0;
  for (const auto& [name, value] : result.metrics) record.metrics["eval/" + name] = value;
  record.samples = result.samples;
  store.write_step(record);
}

}  // namespace grpo::train
