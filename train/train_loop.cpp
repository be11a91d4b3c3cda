#include "train/train_loop.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>

#include "core/version.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/prompt_sampler.h"
#include "core/recipe_file.h"
#include "core/run_directory.h"
#include "core/stop_signal.h"
#include "core/torch_runtime.h"
#include "core/wall_clock.h"
#include "learner/advantages.h"
#include "learner/checkpoint.h"
#include "learner/data_parallel.h"
#include "learner/generation_broadcast.h"
#include "learner/grpo_trainer.h"
#include "learner/train_state.h"
#include "rollout/from_config.h"
#include "sandbox/doctor.h"
#include "train/components.h"
#include "train/local_ranks.h"
#include "train/rollout_backend.h"
#include "train/rollout_samples.h"
#include "train/rollout_pipeline.h"
#include "train/run_outputs.h"
#include "train/step_metrics.h"

namespace grpo::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

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

// A training batch queued on the rollout pipeline.
struct LaunchedBatch {
  int64_t step = 0;
  std::vector<size_t> rows;                     // dataset rows of its prompts
  std::vector<rollout::GroupRequest> requests;
  DataCursor cursor_before;                     // the data cursor before its prompts were drawn
  RolloutPipeline::Ticket ticket;
};

// The groups one step trains on, gathered over one or more generation rounds.
struct StepBatch {
  std::vector<std::vector<int64_t>> prompt_ids;  // per group
  std::vector<rollout::GroupResult> results;
  std::vector<rewards::Sample> samples;          // per completion, groups contiguous
  std::vector<rewards::ScoredSample> scored;
  int rounds = 0;                                // extra rounds (dynamic sampling)
  int64_t stale_groups = 0, zero_std_groups = 0;
  double time_rollout = 0, time_reward = 0, generate_s = 0;
};

std::unique_ptr<learner::GrpoTrainer> make_trainer(const Recipe& recipe, std::shared_ptr<policies::CausalLM> policy,
                                                  int64_t pad_id) {
  return std::make_unique<learner::GrpoTrainer>(
      learner::TrainablePolicy::from_causal_lm(std::move(policy), recipe.rollout.temperature > 0 ? recipe.rollout.temperature : 1.0,
                                               recipe.learner),
      recipe.learner, pad_id, recipe.rollout.max_new_tokens);
}

// `recipe` with this rank's model device (data parallel: cuda -> cuda:LOCAL_RANK).
// The run stores the recipe as written, so that a resume places ranks afresh.
Recipe on_rank_device(Recipe recipe, const learner::DataParallel* dp) {
  if (dp) recipe.model.device = dp->device().str();
  return recipe;
}

// Rank 0's padding id, on every rank (the others load no tokenizer).
int64_t shared_pad_id(learner::DataParallel& dp, int64_t pad_id) {
  torch::Tensor t = torch::tensor({pad_id}, torch::kLong);
  dp.broadcast({t});
  return t.item<int64_t>();
}

// A rank > 0 of a data-parallel run: the learner alone, on the batches rank 0
// sends, until it sends the stop. Its weights are rank 0's (broadcast).
void run_learner_rank(const TrainOptions& o, const std::shared_ptr<learner::DataParallel>& dp) {
  // Stop signals are rank 0's: it finishes the step, checkpoints, then sends the stop.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  Recipe recipe = resolve_recipe(o);
  configure_torch_threads(recipe.run.threads);
  auto trainer = make_trainer(recipe, load_policy(on_rank_device(recipe, dp.get()).model, static_cast<uint64_t>(recipe.run.seed)),
                              shared_pad_id(*dp, 0));
  trainer->set_data_parallel(dp);
  if (!o.resume_dir.empty()) {
    if (auto ckpt = learner::latest_checkpoint(o.resume_dir + "/checkpoints")) {
      learner::TrainProgress p = learner::load_train_state(ckpt->dir, trainer->optimizer());
      trainer->set_steps_done(p.extra.value("optimizer_steps", p.step));
    }
  }
  while (auto batch = learner::receive_generation(*dp)) trainer->train_on_generation(*batch);
}

// The run: its components and the state that a checkpoint carries.
class Loop {
 public:
  // `components` were built (and so validated) before the run directory existed.
  Loop(const Recipe& recipe, TrainComponents components, RunDirectory& dir, const std::optional<learner::CheckpointInfo>& ckpt,
       const TrainOptions& options, std::shared_ptr<learner::DataParallel> dp)
      : recipe_(recipe), dir_(dir), options_(options), components_(std::move(components)), dp_(std::move(dp)) {
    trainer_ = make_trainer(recipe, components_.policy, dp_ ? shared_pad_id(*dp_, pad_id()) : pad_id());
    if (dp_) trainer_->set_data_parallel(dp_);
    sampler_ = std::make_unique<PromptSampler>(components_.train_data.size(), static_cast<uint64_t>(recipe.run.seed),
                                               recipe.data.shuffle);
    if (ckpt) restore(*ckpt);
    std::vector<std::string> types;
    for (const auto& r : recipe.rewards) types.push_back(r.type);
    roles_ = metric_roles(types);
    backend_ = make_rollout_backend(recipe, components_, dir.path());
    pipeline_ = std::make_unique<RolloutPipeline>(*backend_, *components_.rewards, recipe.rollout.overlap_rewards);
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
    if (dp_) learner::send_stop(*dp_);
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

  // Group requests for `rows`; seeds from (run seed, stream, first_group + i)
  // only, so a resumed run samples exactly what the uninterrupted one would have.
  std::vector<rollout::GroupRequest> make_requests(const Dataset& data, const std::vector<size_t>& rows, int n,
                                                   bool greedy, uint64_t stream, size_t first_group = 0) {
    return group_requests(data, rows, *components_.prompt_template, recipe_.data.prompt_field, n, sampling(greedy, 0),
                          static_cast<uint64_t>(recipe_.run.seed), stream, first_group);
  }

  // The reward samples of one finished group, made on the pipeline thread
  // from copies of what they need.
  GroupSamplesFn group_samples(const Dataset& data, const std::vector<size_t>& rows,
                               const std::vector<rollout::GroupRequest>& requests) const {
    std::vector<std::string> prompts;
    std::vector<nlohmann::json> fields;
    for (size_t g = 0; g < requests.size(); ++g) {
      prompts.push_back(components_.tokenizer->decode(
          std::vector<int32_t>(requests[g].prompt_ids.begin(), requests[g].prompt_ids.end())));
      fields.push_back(data.row(rows[g]).fields);
    }
    return [prompts = std::move(prompts), fields = std::move(fields)](size_t g, const rollout::GroupResult& result) {
      return group_reward_samples(prompts[g], fields[g], result);
    };
  }

  // Launches the training batches of steps `step` .. step + look-ahead that are
  // not launched yet. Look-ahead is max_staleness in async mode, 0 in sync;
  // it never crosses a checkpoint, so the batch after a checkpoint is always
  // generated with the checkpoint's weights and a resumed run replays the
  // uninterrupted one exactly.
  void launch_ahead(int64_t step) {
    int64_t last = step + (recipe_.rollout.mode == "async" ? recipe_.rollout.max_staleness : 0);
    last = std::min<int64_t>(last, recipe_.run.steps);
    const int64_t every = recipe_.learner.checkpoint_every;
    if (every > 0) last = std::min(last, (step + every - 1) / every * every);
    for (int64_t s = ahead_.empty() ? step : ahead_.back().step + 1; s <= last; ++s)
      ahead_.push_back(launch_round(s, /*round=*/0));
  }

  // Draws the next prompts and queues their generation with the newest weights.
  LaunchedBatch launch_round(int64_t step, int round) {
    LaunchedBatch b;
    b.step = step;
    b.cursor_before = sampler_->cursor();
    b.rows = sampler_->next(static_cast<size_t>(recipe_.data.prompts_per_step));
    b.requests = make_requests(components_.train_data, b.rows, recipe_.rollout.num_generations, false,
                               static_cast<uint64_t>(step), static_cast<size_t>(round) * b.rows.size());
    b.ticket = pipeline_->launch(b.requests, version_, group_samples(components_.train_data, b.rows, b.requests));
    return b;
  }

  // Adds the usable groups of one generated round to `into`: groups older
  // than the staleness bound are dropped (and counted), and with
  // `drop_zero_std` so are groups whose rewards are all equal.
  void keep_groups(const LaunchedBatch& launched, ScoredBatch& b, bool drop_zero_std, StepBatch& into) const {
    const int64_t max_staleness = recipe_.rollout.mode == "async" ? recipe_.rollout.max_staleness : 0;
    const size_t g_size = static_cast<size_t>(recipe_.rollout.num_generations);
    for (size_t g = 0; g < b.results.size(); ++g) {
      // A refill round can bring more informative groups than the batch needs.
      if (into.results.size() >= static_cast<size_t>(recipe_.data.prompts_per_step)) break;
      if (version_ - b.results[g].weight_version > max_staleness) {
        ++into.stale_groups;
        continue;
      }
      auto first = b.scored.begin() + static_cast<std::ptrdiff_t>(g * g_size);
      bool spread = std::any_of(first, first + static_cast<std::ptrdiff_t>(g_size),
                                [&](const rewards::ScoredSample& x) { return x.total != first->total; });
      if (drop_zero_std && !spread) {
        ++into.zero_std_groups;
        continue;
      }
      into.prompt_ids.push_back(launched.requests[g].prompt_ids);
      into.results.push_back(std::move(b.results[g]));
      for (size_t i = g * g_size; i < (g + 1) * g_size; ++i) {
        into.samples.push_back(std::move(b.samples[i]));
        into.scored.push_back(std::move(b.scored[i]));
      }
    }
  }

  // The groups step `step` trains on: its launched batch, refilled by extra
  // rounds under dynamic sampling (DAPO).
  StepBatch collect_batch(int64_t step) {
    launch_ahead(step);
    LaunchedBatch launched = std::move(ahead_.front());
    ahead_.pop_front();
    const bool dynamic = recipe_.rollout.dynamic_sampling;
    StepBatch batch;
    auto await_batch = [&](const LaunchedBatch& l) {
      ScoredBatch got = pipeline_->wait(l.ticket);
      batch.time_rollout += got.wait_generate_s;
      batch.time_reward += got.wait_reward_s;
      batch.generate_s += got.generate_s;
      return got;
    };
    ScoredBatch b = await_batch(launched);
    keep_groups(launched, b, dynamic, batch);
    while (dynamic && batch.results.size() < static_cast<size_t>(recipe_.data.prompts_per_step) &&
           batch.rounds < recipe_.rollout.max_generation_rounds) {
      ++batch.rounds;
      launched = launch_round(step, batch.rounds);
      b = await_batch(launched);
      keep_groups(launched, b, dynamic, batch);
    }
    // No informative group after every round: train on the last round as it
    // is (its advantages are 0, so only the non-policy-gradient terms act).
    if (batch.results.empty() && dynamic) keep_groups(launched, b, false, batch);
    if (batch.results.empty())
      throw Error("step " + std::to_string(step) + ": every generated group was more than rollout.max_staleness = " +
                  std::to_string(recipe_.rollout.max_staleness) + " versions old");
    return batch;
  }

  void run_step(Progress& progress) {
    auto t_step = Clock::now();
    int64_t step = step_ + 1;
    StepBatch sb = collect_batch(step);

    std::vector<double> totals;
    for (const auto& s : sb.scored) totals.push_back(s.total);
    learner::Advantages adv = learner::compute_advantages(
        totals, recipe_.rollout.num_generations, {recipe_.learner.scale_rewards, recipe_.learner.leave_one_out});

    std::vector<learner::TrainSequence> batch;
    int64_t generated_tokens = 0;
    double staleness_sum = 0, staleness_max = 0;
    size_t k = 0;
    for (size_t g = 0; g < sb.results.size(); ++g) {
      double staleness = static_cast<double>(version_ - sb.results[g].weight_version);
      for (const auto& c : sb.results[g].completions) {
        learner::TrainSequence seq;
        seq.tokens = sb.prompt_ids[g];
        seq.prompt_len = static_cast<int64_t>(seq.tokens.size());
        seq.tokens.insert(seq.tokens.end(), c.ids.begin(), c.ids.end());
        seq.rollout_logprobs = c.logprobs;
        seq.truncated = c.finish_reason == rollout::FinishReason::kLength;
        seq.advantage = adv.values[k++];
        generated_tokens += static_cast<int64_t>(c.ids.size());
        staleness_sum += staleness;
        staleness_max = std::max(staleness_max, staleness);
        batch.push_back(std::move(seq));
      }
    }

    auto t0 = Clock::now();
    if (dp_) learner::send_generation(*dp_, batch);
    std::vector<learner::StepMetrics> learner_metrics = trainer_->train_on_generation(batch);
    double t_learner = seconds_since(t0);

    t0 = Clock::now();
    ++version_;
    backend_->publish(version_);
    double t_sync = seconds_since(t0);

    step_ = step;
    StepRecord record;
    record.step = step;
    record.metrics = rollout_metrics(sb.results, sb.scored, components_.rewards->names(), roles_);
    if (!learner_metrics.empty())
      for (const auto& [name, value] : learner_metrics.back().values) {
        // The learner's own timings are parts of time/learner, not phases of the step.
        if (name.rfind("time/", 0) == 0) record.metrics["learner/" + name] = value;
        else record.metrics[name] = value;
      }
    record.metrics["reward/frac_zero_std"] = adv.frac_reward_zero_std;
    record.metrics["staleness/mean"] = batch.empty() ? 0.0 : staleness_sum / static_cast<double>(batch.size());
    record.metrics["staleness/max"] = staleness_max;
    record.metrics["staleness/dropped_groups"] = static_cast<double>(sb.stale_groups);
    if (recipe_.rollout.dynamic_sampling) {
      record.metrics["dynamic_sampling/rounds"] = sb.rounds;
      record.metrics["dynamic_sampling/dropped_groups"] = static_cast<double>(sb.zero_std_groups);
      record.metrics["dynamic_sampling/groups"] = static_cast<double>(sb.results.size());
    }
    double t_eval = 0;
    bool last_step = step == recipe_.run.steps;  // run.eval_every: start (step 0) and end, plus every N
    if ((recipe_.run.eval_every > 0 && step % recipe_.run.eval_every == 0) || last_step) {
      t0 = Clock::now();
      add_eval_metrics(record.metrics);
      t_eval = seconds_since(t0);
    }
    // The step-time breakdown: what the trainer thread waited for or did, in
    // order; time/other is the rest (advantages, batch assembly, bookkeeping).
    record.metrics["time/rollout"] = sb.time_rollout;
    record.metrics["time/reward"] = sb.time_reward;
    record.metrics["time/learner"] = t_learner;
    record.metrics["time/weight_sync"] = t_sync;
    if (t_eval > 0) record.metrics["time/eval"] = t_eval;
    // Generation's own wall time, partly hidden behind the learner in async mode.
    record.metrics["rollout/generation_s"] = sb.generate_s;
    record.metrics["throughput/rollout/tokens_per_s"] = sb.generate_s > 0 ? generated_tokens / sb.generate_s : 0;
    record.metrics["rollout/worker_restarts"] = static_cast<double>(backend_->respawns());
    record.samples = sample_records(sb.results, sb.samples, sb.scored, components_.rewards->names(), adv.values,
                                    recipe_.run.samples_per_step);
    double t_total = seconds_since(t_step);
    record.metrics["time/other"] =
        std::max(0.0, t_total - sb.time_rollout - sb.time_reward - t_learner - t_sync - t_eval);
    record.metrics["time/step"] = t_total;
    record.metrics["throughput/tokens_per_s"] = t_total > 0 ? generated_tokens / t_total : 0;
    dir_.store().write_step(record);
    last_metrics_ = record.metrics;

    ProgressStats ps;
    ps.step = step;
    ps.reward = record.metrics["reward/mean"];
    if (record.metrics.count("accuracy/mean")) ps.accuracy = record.metrics["accuracy/mean"];
    ps.tokens_per_second = record.metrics["throughput/tokens_per_s"];
    progress.update(ps);
  }

  // Greedy completions of the held-out rows: eval/accuracy/mean, eval/format/rate, ...
  void add_eval_metrics(std::map<std::string, double>& metrics) {
    if (components_.eval_data.size() == 0) return;
    std::vector<size_t> rows(components_.eval_data.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    auto requests = make_requests(components_.eval_data, rows, 1, /*greedy=*/true, /*stream=*/0);
    ScoredBatch b = pipeline_->wait(pipeline_->launch(requests, version_, group_samples(components_.eval_data, rows, requests)));
    for (const auto& [name, value] : rollout_metrics(b.results, b.scored, components_.rewards->names(), roles_)) {
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
    // Prompts drawn for batches still ahead (only after a stop signal: look-ahead
    // never crosses a checkpoint step) are drawn again after a resume.
    DataCursor cursor = ahead_.empty() ? sampler_->cursor() : ahead_.front().cursor_before;
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
  std::shared_ptr<learner::DataParallel> dp_;  // null: one learner rank
  std::unique_ptr<learner::GrpoTrainer> trainer_;
  std::unique_ptr<PromptSampler> sampler_;
  std::unique_ptr<RolloutBackend> backend_;
  std::unique_ptr<RolloutPipeline> pipeline_;  // destroyed before the backend it drives
  std::deque<LaunchedBatch> ahead_;            // launched batches of the next steps, in step order
  MetricRoles roles_;
  int64_t step_ = 0;
  int64_t version_ = 0;
  std::map<std::string, double> last_metrics_;
};

// The loop of a one-rank run, or rank 0's of a data-parallel one.
TrainSummary run_rank0(const TrainOptions& options, const std::shared_ptr<learner::DataParallel>& dp) {
  Recipe recipe = resolve_recipe(options);
  configure_torch_threads(recipe.run.threads);
  if (!log::level_from_command_line()) log::set_level(log::parse_level(recipe.run.log_level));
  bool resuming = !options.resume_dir.empty();
  std::optional<learner::CheckpointInfo> ckpt;
  if (resuming) ckpt = learner::latest_checkpoint(options.resume_dir + "/checkpoints");
  // Everything that can be wrong with the inputs fails here, before a run
  // directory is made or any work starts.
  TrainComponents components =
      build_components(on_rank_device(recipe, dp.get()), ckpt ? std::optional<std::string>(ckpt->dir + "/policy") : std::nullopt);
  RunDirectory dir = resuming ? RunDirectory::resume(options.resume_dir)
                              : RunDirectory::create(recipe.run, recipe_to_json(recipe).dump(2), kVersion);
  for (const auto& r : recipe.rewards) {
    if (r.type != "code") continue;
    // Which isolation layers guard this run's programs, on record.
    dir.store().set_meta("sandbox", sandbox::plan_sandbox(sandbox::probe_capabilities(recipe.sandbox), recipe.sandbox).to_json().dump());
    break;
  }
  try {
    Loop loop(recipe, std::move(components), dir, ckpt, options, dp);
    TrainSummary s = loop.run();
    dir.finish(s.status);
    return s;
  } catch (const std::exception& e) {
    dir.store().add_event({-1, "error", "train", e.what()});
    dir.finish("failed");
    throw;
  }
}

}  // namespace

TrainSummary run_training(const TrainOptions& options) {
  // --nproc starts the other ranks unless this process is one of them (RANK set).
  std::unique_ptr<LocalRanks> local;
  if (options.nproc > 1 && std::getenv("RANK") == nullptr) local = std::make_unique<LocalRanks>(options.nproc);
  std::shared_ptr<learner::DataParallel> dp;
  if (auto dpo = learner::DataParallelOptions::from_env(); dpo.world_size > 1) {
    // The rank's device picks the backend: Gloo on the CPU, NCCL on cuda:LOCAL_RANK.
    dpo.device = device_from_config(
        learner::rank_model_device(resolve_recipe(options).model.device, dpo.local_rank, dpo.world_size), "model.device");
    dp = std::make_shared<learner::DataParallel>(dpo);
    if (!dp->is_primary()) {
      run_learner_rank(options, dp);
      return {};
    }
  }
  TrainSummary s = run_rank0(options, dp);
  if (local) local->wait();
  return s;
}

}  // namespace grpo::train
