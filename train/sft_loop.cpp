// sft_loop.cpp: see sft_loop.h.
#include "train/sft_loop.h"

#include <chrono>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/prompt_sampler.h"
#include "core/run_directory.h"
#include "core/stop_signal.h"
#include "core/torch_runtime.h"
#include "core/version.h"
#include "learner/sft_trainer.h"
#include "train/components.h"
#include "train/recipe.h"
#include "train/run_outputs.h"
#include "train/sft_data.h"

namespace grpo::train {
namespace {

// The end-of-text token the template stops on: appended to documents and completions, and the padding id.
std::optional<int32_t> end_of_text(const policies::PromptTemplate& tmpl) {
  const auto& stops = tmpl.stop_ids();
  if (stops.empty()) return std::nullopt;
  return static_cast<int32_t>(stops.front());
}

std::vector<learner::TrainSequence> load_sequences(const Recipe& r, const policies::PromptTemplate& tmpl,
                                                   const policies::Tokenizer& tok) {
  std::optional<int32_t> eos = end_of_text(tmpl);
  if (r.sft.add_eos && !eos)
    throw ConfigError("", "sft.add_eos", "the tokenizer has no end-of-text token (<|endoftext|>, <|im_end|>, ...); add one or set add_eos false");
  if (!r.sft.add_eos) eos.reset();
  if (!r.sft.text.empty()) return text_sequences(r.sft.text, tok, r.sft.seq_len, eos);
  return pair_sequences(r.sft.pairs, r.sft, tmpl, tok, eos);
}

// The run's state: policy, data, trainer, position.
class SftRun {
 public:
  SftRun(const Recipe& recipe, RunDirectory& dir, std::shared_ptr<policies::CausalLM> policy,
         std::unique_ptr<policies::Tokenizer> tokenizer, std::vector<learner::TrainSequence> sequences, int64_t pad_id)
      : recipe_(recipe), dir_(dir), policy_(std::move(policy)), tokenizer_(std::move(tokenizer)),
        sequences_(std::move(sequences)),
        sampler_(sequences_.size(), static_cast<uint64_t>(recipe.run.seed), /*shuffle=*/true) {
    learner::LearnerConfig cfg = recipe.learner;
    // "0 = take it from the run length": one optimizer step per run step here.
    if (cfg.total_steps == 0) cfg.total_steps = recipe.run.steps;
    trainer_ = std::make_unique<learner::SftTrainer>(
        learner::TrainablePolicy::from_causal_lm(policy_, /*temperature=*/1.0, cfg),
        cfg, pad_id);
    GRPO_LOG_INFO("sft", "run " << dir.path() << ": " << sequences_.size() << " sequences, "
                                << recipe.sft.batch_size << " per step, " << recipe.run.steps << " steps");
  }

  SftSummary run() {
    install_stop_signal_handlers();
    Progress progress(recipe_.run.steps, recipe_.run.log_every);
    SftSummary s;
    s.status = "completed";
    while (step_ < recipe_.run.steps) {
      if (stop_requested()) {
        s.status = "interrupted";
        break;
      }
      run_step(progress);
      if (recipe_.learner.checkpoint_every > 0 && step_ % recipe_.learner.checkpoint_every == 0) checkpoint();
    }
    progress.finish();
    checkpoint();
    s.model_dir = recipe_.sft.output.empty() ? dir_.path() + "/final" : recipe_.sft.output;
    save_policy_with_tokenizer(*policy_, *tokenizer_, s.model_dir);
    write_run_report(dir_);
    s.run_dir = dir_.path();
    s.steps_done = step_;
    s.last_metrics = last_metrics_;
    return s;
  }

 private:
  void run_step(Progress& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<learner::TrainSequence> batch;
    for (size_t i : sampler_.next(static_cast<size_t>(recipe_.sft.batch_size))) batch.push_back(sequences_[i]);
    learner::StepMetrics m = trainer_->step(batch);
    ++step_;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    StepRecord record;
    record.step = step_;
    record.metrics = m.values;
    record.metrics["time/step"] = seconds;
    record.metrics["throughput/tokens_per_s"] = seconds > 0 ? m.values["tokens/target"] / seconds : 0;
    dir_.store().write_step(record);
    last_metrics_ = record.metrics;
    ProgressStats ps;
    ps.step = step_;
    ps.reward = -m.values["loss"];  // the progress line's "reward" of a supervised run: minus the loss
    ps.tokens_per_second = record.metrics["throughput/tokens_per_s"];
    progress.update(ps);
  }

  void checkpoint() {
    DataCursor cursor = sampler_.cursor();
    learner::TrainProgress p;
    p.step = step_;
    p.data_cursor = cursor.position;
    p.extra = {{"epoch", cursor.epoch}, {"position", cursor.position}};
    write_run_checkpoint(dir_, step_, *policy_, *tokenizer_, trainer_->optimizer(), p,
                         {recipe_.learner.keep_last, recipe_.learner.keep_every});
  }

  Recipe recipe_;
  RunDirectory& dir_;
  std::shared_ptr<policies::CausalLM> policy_;
  std::unique_ptr<policies::Tokenizer> tokenizer_;
  std::vector<learner::TrainSequence> sequences_;
  PromptSampler sampler_;
  std::unique_ptr<learner::SftTrainer> trainer_;
  int64_t step_ = 0;
  std::map<std::string, double> last_metrics_;
};

}  // namespace

SftSummary run_sft(const SftOptions& options) {
  Recipe recipe = load_recipe(options.recipe_path, options.overrides);
  if (!recipe.sft.enabled())
    throw ConfigError(options.recipe_path, "sft.text", "the recipe names no training data: set sft.text (a text corpus) or sft.pairs (prompt/completion JSONL)");
  configure_torch_threads(recipe.run.threads);
  if (!log::level_from_command_line()) log::set_level(log::parse_level(recipe.run.log_level));
  // Inputs fail here, before a run directory exists.
  auto tokenizer = std::make_unique<policies::Tokenizer>(load_tokenizer(recipe));
  policies::PromptTemplate tmpl(recipe.prompt_template, *tokenizer);
  std::vector<learner::TrainSequence> sequences = load_sequences(recipe, tmpl, *tokenizer);
  std::shared_ptr<policies::CausalLM> policy = load_policy(recipe.model, static_cast<uint64_t>(recipe.run.seed));
  check_tokenizer_fits(*tokenizer, *policy);
  const int64_t pad_id = end_of_text(tmpl).value_or(0);
  RunDirectory dir = RunDirectory::create(recipe.run, recipe_to_json(recipe).dump(2), kVersion);
  try {
    SftRun run(recipe, dir, policy, std::move(tokenizer), std::move(sequences), pad_id);
    SftSummary s = run.run();
    dir.finish(s.status);
    return s;
  } catch (const std::exception& e) {
    dir.store().add_event({-1, "error", "sft", e.what()});
    dir.finish("failed");
    throw;
  }
}

}  // namespace grpo::train
