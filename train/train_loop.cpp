#include "train/train_loop.h"

#include <chrono>
#include <filesystem>

#include "core/version.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/prompt_sampler.h"
#include "core/recipe_file.h"
#include "core/run_directory.h"
#include "core/seeded_random.h"
#include "core/stop_signal.h"
#include "core/torch_runtime.h"
#include "learner/advantages.h"
#include "learner/grpo_trainer.h"
#include "rollout/from_config.h"
#include "sandbox/doctor.h"
#include "train/components.h"
#include "train/rollout_backend.h"
#include "train/run_outputs.h"
#include "train/step_metrics.h"

namespace grpo::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The recipe of a new run, or the stored one of a resumed run (with any --set on top).
Recipe resolve_recipe(const TrainOptions& o) {
  if (!o.recipe_path.empty()) return load_recipe(o.recipe_path, o.overrides);
  std::string db = o.resume_dir + "/run.db";
  if (!fs::exists(db)) throw IoError(o.resume_dir, "no run to resume here (no run.db)");
  RunStore store(db, RunStore::Mode::kReadOnly);
  auto text = store.meta("recipe");
  if (!text) throw IoError(db, "the run store holds no recipe: pass the recipe file as well");
  RecipeDocument doc = parse_recipe_document(*text, db + " (stored recipe)", o.resume_dir);
  for (const auto& s : o.overrides) apply_override(doc, s);
  return read_config<Recipe>(doc.root, doc.origins);
}

// The run: its components and the state that a checkpoint carries.
class Loop {
 public:
  // `components` were built (and so validated) before the run directory existed.
  Loop(const Recipe& recipe, TrainComponents components, RunDirectory& dir, const std::optional<learner::CheckpointInfo>& ckpt,
       const TrainOptions& options)
      : recipe_(recipe), dir_(dir), options_(options), components_(std::move(components)) {
    trainer_ = std::make_unique<learner::GrpoTrainer>(
        learner::TrainablePolicy::from_causal_lm(components_.policy, recipe.rollout.temperature > 0 ? recipe.rollout.temperature : 1.0,
                                                 recipe.learner.logprob_chunk_tokens, recipe.learner.seq_balance_loss_alpha),
        recipe.learner, pad_id(), recipe.rollout.max_new_tokens);
    sampler_ = std::make_unique<PromptSampler>(components_.train_data.size(), static_cast<uint64_t>(recipe.run.seed),
                                               recipe.data.shuffle);
    if (ckpt) restore(*ckpt);
    std::vector<std::string> types;
    for (const auto& r : recipe.rewards) types.push_back(r.type);
    roles_ = metric_roles(types);
    backend_ = make_rollout_backend(recipe, components_, dir.path());
    GRPO_LOG_INFO("train", "run " << dir.path() << ": " << components_.train_data.size() << " training rows, "
                                  << components_.eval_data.size() << " held-out rows, rollout by " << backend_->describe());
  }

  TrainSummary run() {
    install_stop_signal_handlers();
    backend_->publish(version_);
    if (step_ == 0) write_eval_only_step();
    Progress progress(recipe_.run.steps, recipe_.run.log_every);
    std::string status = "completed";
    while (step_ < recipe_.run.steps) {
      if (stop_requested()) {
        status = "interrupted";
        break;
      }
      run_step(progress);
      if (recipe_.learner.checkpoint_every > 0 && step_ % recipe_.learner.checkpoint_every == 0) checkpoint();
      if (options_.report_every > 0 && step_ % options_.report_every == 0) write_report();
    }
    progress.finish();
    if (stop_requested()) {
      status = "interrupted";
      GRPO_LOG_WARN("train", "signal " << stop_signal_number() << ": stopping after step " << step_);
    }
    checkpoint();
    TrainSummary summary;
    summary.run_dir = dir_.path();
    summary.status = status;
    summary.steps_done = step_;
    summary.last_metrics = last_metrics_;
    summary.report_path = write_report();
    return summary;
  }

 private:
  int64_t pad_id() const {
    auto eos = components_.prompt_template->stop_ids();
    return eos.empty() ? 0 : eos.front();
  }

  rollout::SamplingParams sampling(bool greedy, uint64_t seed) const {
    const auto& stops = components_.prompt_template->stop_ids();
    rollout::SamplingParams p =
        rollout::sampling_params_from(recipe_.rollout, std::vector<int64_t>(stops.begin(), stops.end()), seed);
    if (greedy) p.temperature = 0.0;
    return p;
  }

  std::vector<rollout::GroupRequest> make_requests(const Dataset& data, const std::vector<size_t>& rows, int n,
                                                   bool greedy, uint64_t stream) {
    std::vector<rollout::GroupRequest> out;
    for (size_t i = 0; i < rows.size(); ++i) {
      const DatasetRow& row = data.row(rows[i]);
      auto ids = components_.prompt_template->encode(template_row(row.fields, recipe_.data.prompt_field));
      rollout::GroupRequest r;
      r.id = static_cast<int64_t>(i);
      r.prompt_ids.assign(ids.begin(), ids.end());
      r.n = n;
      // Seeds depend on (run seed, step, group) only: a resumed run samples
      // exactly what the uninterrupted one would have.
      r.params = sampling(greedy, mix_seed(static_cast<uint64_t>(recipe_.run.seed), stream * 100003 + i));
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<rewards::Sample> to_samples(const Dataset& data, const std::vector<size_t>& rows,
                                          const std::vector<rollout::GroupRequest>& requests,
                                          const std::vector<rollout::GroupResult>& results) const {
    std::vector<rewards::Sample> samples;
    for (size_t g = 0; g < results.size(); ++g) {
      std::string prompt = components_.tokenizer->decode(
          std::vector<int32_t>(requests[g].prompt_ids.begin(), requests[g].prompt_ids.end()));
      for (const auto& c : results[g].completions) {
        rewards::Sample s;
        s.prompt = prompt;
        s.completion = c.text;
        s.completion_tokens = static_cast<int64_t>(c.ids.size());
        s.finish_reason = rollout::finish_reason_name(c.finish_reason);
        s.row = data.row(rows[g]).fields;
        samples.push_back(std::move(s));
      }
    }
    return samples;
  }

  void run_step(Progress& progress) {
    auto t_step = Clock::now();
    int64_t step = step_ + 1;
    std::vector<size_t> rows = sampler_->next(static_cast<size_t>(recipe_.data.prompts_per_step));
    auto requests = make_requests(components_.train_data, rows, recipe_.rollout.num_generations, false,
                                  static_cast<uint64_t>(step));

    auto t0 = Clock::now();
    auto results = backend_->generate(requests);
    double t_rollout = seconds_since(t0);

    t0 = Clock::now();
    auto samples = to_samples(components_.train_data, rows, requests, results);
    auto scored = components_.rewards->score(samples);
    double t_reward = seconds_since(t0);

    std::vector<double> totals;
    for (const auto& s : scored) totals.push_back(s.total);
    learner::Advantages adv = learner::compute_advantages(
        totals, recipe_.rollout.num_generations, {recipe_.learner.scale_rewards, recipe_.learner.leave_one_out});

    std::vector<learner::TrainSequence> batch;
    int64_t generated_tokens = 0;
    size_t k = 0;
    for (size_t g = 0; g < results.size(); ++g) {
      for (const auto& c : results[g].completions) {
        learner::TrainSequence seq;
        seq.tokens = requests[g].prompt_ids;
        seq.prompt_len = static_cast<int64_t>(seq.tokens.size());
        seq.tokens.insert(seq.tokens.end(), c.ids.begin(), c.ids.end());
        seq.rollout_logprobs = c.logprobs;
        seq.truncated = c.finish_reason == rollout::FinishReason::kLength;
        seq.advantage = adv.values[k++];
        generated_tokens += static_cast<int64_t>(c.ids.size());
        batch.push_back(std::move(seq));
      }
    }

    t0 = Clock::now();
    std::vector<learner::StepMetrics> learner_metrics = trainer_->train_on_generation(batch);
    double t_learner = seconds_since(t0);

    t0 = Clock::now();
    ++version_;
    backend_->publish(version_);
    double t_sync = seconds_since(t0);

    step_ = step;
    StepRecord record;
    record.step = step;
    record.metrics = rollout_metrics(results, scored, components_.rewards->names(), roles_);
    if (!learner_metrics.empty())
      for (const auto& [name, value] : learner_metrics.back().values) record.metrics[name] = value;
    record.metrics["reward/frac_zero_std"] = adv.frac_reward_zero_std;
    record.metrics["time/rollout"] = t_rollout;
    record.metrics["time/reward"] = t_reward;
    record.metrics["time/learner"] = t_learner;
    record.metrics["time/weight_sync"] = t_sync;
    record.metrics["throughput/rollout/tokens_per_s"] = t_rollout > 0 ? generated_tokens / t_rollout : 0;
    record.metrics["rollout/worker_restarts"] = static_cast<double>(backend_->respawns());
    if (recipe_.run.eval_every > 0 && step % recipe_.run.eval_every == 0) add_eval_metrics(record.metrics);
    double t_total = seconds_since(t_step);
    record.metrics["time/step"] = t_total;
    record.metrics["throughput/tokens_per_s"] = t_total > 0 ? generated_tokens / t_total : 0;
    record.samples = sample_records(results, samples, scored, adv.values);
    dir_.store().write_step(record);
    last_metrics_ = record.metrics;

    ProgressStats ps;
    ps.step = step;
    ps.reward = record.metrics["reward/mean"];
    if (record.metrics.count("accuracy/mean")) ps.accuracy = record.metrics["accuracy/mean"];
    ps.tokens_per_second = record.metrics["throughput/tokens_per_s"];
    progress.update(ps);
  }

  std::vector<SampleRecord> sample_records(const std::vector<rollout::GroupResult>& results,
                                           const std::vector<rewards::Sample>& samples,
                                           const std::vector<rewards::ScoredSample>& scored,
                                           const std::vector<double>& advantages) const {
    std::vector<SampleRecord> out;
    auto names = components_.rewards->names();
    size_t k = 0;
    for (size_t g = 0; g < results.size(); ++g) {
      for (size_t i = 0; i < results[g].completions.size(); ++i, ++k) {
        if (recipe_.run.samples_per_step >= 0 && static_cast<int64_t>(out.size()) >= recipe_.run.samples_per_step) return out;
        SampleRecord r;
        r.group = static_cast<int64_t>(g);
        r.index = static_cast<int64_t>(i);
        r.prompt = samples[k].prompt;
        r.completion = samples[k].completion;
        for (size_t j = 0; j < names.size(); ++j) r.rewards[names[j]] = scored[k].components[j].score;
        r.reward = scored[k].total;
        r.advantage = advantages[k];
        r.policy_version = results[g].weight_version;
        r.finish_reason = samples[k].finish_reason;
        out.push_back(std::move(r));
      }
    }
    return out;
  }

  // Greedy completions of the held-out rows: eval/accuracy/mean, eval/format/rate, ...
  void add_eval_metrics(std::map<std::string, double>& metrics) {
    if (components_.eval_data.size() == 0) return;
    std::vector<size_t> rows(components_.eval_data.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    auto requests = make_requests(components_.eval_data, rows, 1, /*greedy=*/true, /*stream=*/0);
    auto results = backend_->generate(requests);
    auto samples = to_samples(components_.eval_data, rows, requests, results);
    auto scored = components_.rewards->score(samples);
    for (const auto& [name, value] : rollout_metrics(results, scored, components_.rewards->names(), roles_)) {
      if (name.rfind("reward/", 0) == 0 && name.find("/std") != std::string::npos) continue;
      metrics["eval/" + name] = value;
    }
  }

  // Step 0 of a new run: where the policy starts, measured on the held-out rows.
  void write_eval_only_step() {
    if (components_.eval_data.size() == 0) return;
    StepRecord record;
    record.step = 0;
    add_eval_metrics(record.metrics);
    dir_.store().write_step(record);
  }

  void checkpoint() {
    DataCursor cursor = sampler_->cursor();
    learner::TrainProgress p;
    p.step = step_;
    p.data_cursor = cursor.position;
    p.extra = {{"epoch", cursor.epoch}, {"position", cursor.position}, {"weight_version", version_},
               {"optimizer_steps", trainer_->steps_done()}};
    write_run_checkpoint(dir_, step_, *components_.policy, *components_.tokenizer, trainer_->optimizer(), p,
                         {recipe_.learner.keep_last, recipe_.learner.keep_every});
  }

  void restore(const learner::CheckpointInfo& ckpt) {
    learner::TrainProgress p = learner::load_train_state(ckpt.dir, trainer_->optimizer());
    step_ = p.step;
    version_ = p.extra.value("weight_version", step_);
    trainer_->set_steps_done(p.extra.value("optimizer_steps", step_));
    DataCursor cursor{p.extra.value("epoch", int64_t{0}), p.extra.value("position", p.data_cursor)};
    sampler_ = std::make_unique<PromptSampler>(components_.train_data.size(), static_cast<uint64_t>(recipe_.run.seed),
                                               recipe_.data.shuffle, cursor);
    dir_.store().add_event({step_, "info", "train", "resumed from " + ckpt.dir});
    GRPO_LOG_INFO("train", "resumed from " << ckpt.dir << " at step " << step_);
  }

  std::string write_report() { return write_run_report(dir_); }

  Recipe recipe_;
  RunDirectory& dir_;
  TrainOptions options_;
  TrainComponents components_;
  std::unique_ptr<learner::GrpoTrainer> trainer_;
  std::unique_ptr<PromptSampler> sampler_;
  std::unique_ptr<RolloutBackend> backend_;
  MetricRoles roles_;
  int64_t step_ = 0;
  int64_t version_ = 0;
  std::map<std::string, double> last_metrics_;
};

}  // namespace

TrainSummary run_training(const TrainOptions& options) {
  Recipe recipe = resolve_recipe(options);
  configure_torch_threads(recipe.run.threads);
  if (!log::level_from_command_line()) log::set_level(log::parse_level(recipe.run.log_level));
  bool resuming = !options.resume_dir.empty();
  std::optional<learner::CheckpointInfo> ckpt;
  if (resuming) ckpt = learner::latest_checkpoint(options.resume_dir + "/checkpoints");
  // Everything that can be wrong with the inputs fails here, before a run
  // directory is made or any work starts.
  TrainComponents components =
      build_components(recipe, ckpt ? std::optional<std::string>(ckpt->dir + "/policy") : std::nullopt);
  RunDirectory dir = resuming ? RunDirectory::resume(options.resume_dir)
                              : RunDirectory::create(recipe.run, recipe_to_json(recipe).dump(2), kVersion);
  for (const auto& r : recipe.rewards) {
    if (r.type != "code") continue;
    // Which isolation layers guard this run's programs, on record.
    dir.store().set_meta("sandbox", sandbox::plan_sandbox(sandbox::probe_capabilities(recipe.sandbox), recipe.sandbox).to_json().dump());
    break;
  }
  try {
    Loop loop(recipe, std::move(components), dir, ckpt, options);
    TrainSummary s = loop.run();
    dir.finish(s.status);
    return s;
  } catch (const std::exception& e) {
    dir.store().add_event({-1, "error", "train", e.what()});
    dir.finish("failed");
    throw;
  }
}

}  // namespace grpo::train
