// recipe.h: a whole recipe, typed: one struct per section, each owned by the
// module that uses it (model/tokenizer/template: policies, data and run: core,
// rollout, rewards, learner). Loading runs every section's checks and the
// checks that span sections.
//
//   Recipe r = load_recipe("recipes/tiny-zero.json", {"learner.lr=1e-5"});
//   nlohmann::json shown = recipe_to_json(r);   // what `grpo config show` prints
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config_fields.h"
#include "core/data_config.h"
#include "core/run_config.h"
#include "learner/learner_config.h"
#include "learner/sft_config.h"
#include "policies/model_spec.h"
#include "rewards/reward_spec.h"
#include "rollout/rollout_config.h"
#include "sandbox/sandbox_config.h"

namespace grpo {

// A recipe with defaults filled in; see docs/recipes.md for every key.
struct Recipe {
  policies::ModelSpec model;
  policies::TokenizerSpec tokenizer;
  DataConfig data;
  policies::TemplateSpec prompt_template;
  rollout::RolloutConfig rollout;
  std::vector<rewards::RewardSpec> rewards;
  learner::LearnerConfig learner;
  learner::SftConfig sft;
  sandbox::SandboxConfig sandbox;
  RunConfig run;

  template <class V> void fields(V& v) {
    v.field("model", model, "The policy: checkpoint to load or architecture to initialise.");
    v.field("tokenizer", tokenizer, "The tokenizer.");
    v.field("data", data, "Where prompts and gold answers come from.");
    v.field("template", prompt_template, "How a dataset row becomes a prompt.");
    v.field("rollout", rollout, "Sampling of completions.");
    v.field("rewards", rewards, "Reward functions; the total reward is their weighted sum.");
    v.field("learner", learner, "The GRPO objective and the optimizer.");
    v.field("sft", sft, "Supervised next-token training for `grpo sft` (pretraining on text, or SFT on prompt/completion pairs).");
    v.field("sandbox", sandbox, "How model-written programs are isolated (code rewards).");
    v.field("run", run, "Naming, seeding and length of the run.");
    // An SFT recipe (`grpo sft`) learns from demonstrations and needs no reward.
    v.check(!rewards.empty() || sft.enabled(), "rewards", "list at least one reward, e.g. [{\"type\": \"math\"}]");
    v.check(rollout.mode != "async" || learner.is_correction != "none", "learner.is_correction",
            "rollout.mode = async trains on samples up to rollout.max_staleness versions old: set an importance-sampling "
            "correction (e.g. token_truncate) so the learner reweights them by pi_old/pi_rollout");
    // Worker processes may run elsewhere than the learner; the in-process engine cannot.
    v.check(rollout.workers > 0 || rollout.device_for(model.device) == model.device, "rollout.device",
            "rollout.workers = 0 generates with the policy itself on model.device: leave rollout.device at model, or set rollout.workers >= 1");
    v.check(rollout.workers > 0 || rollout.dtype_for(model.dtype) == model.dtype, "rollout.dtype",
            "rollout.workers = 0 generates with the policy itself in model.dtype: leave rollout.dtype at model, or set rollout.workers >= 1");
    v.check(rollout.decode != "cuda_graphs" || rollout.device_for(model.device).rfind("cuda", 0) == 0, "rollout.decode",
            "cuda_graphs needs a CUDA rollout device (rollout.device, or model.device when it is model); on the CPU use static (the same fixed-shape steps, run eagerly) or eager");
    v.check(rollout.weight_sync == "zmq" || rollout.workers > 0, "rollout.weight_sync",
            "rollout.workers = 0 generates in the trainer process, which has no weights to sync: use zmq or set rollout.workers >= 1");
  }
};

// Loads `path` (following "extends"), applies `overrides` ("key.path=value")
// and type-checks everything. Throws ConfigError naming file and key path.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});

// The resolved recipe as JSON, every default filled in.
nlohmann::json recipe_to_json(const Recipe& recipe);

// docs/recipes.md as generated from the structs: every key, type, default, meaning.
std::string recipe_reference_markdown();

}  // namespace grpo
