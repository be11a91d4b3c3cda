// components.h: everything a run is built from, made from a recipe before any
// work starts, so that a missing checkpoint, a broken dataset line or an
// unknown reward is one clear error at startup rather than a crash at step 40.
//
//   TrainComponents c = build_components(recipe);          // new run
//   TrainComponents c = build_components(recipe, ckpt_dir); // resume: policy from a checkpoint
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/dataset.h"
#include "policies/causal_lm.h"
#include "policies/prompt_template.h"
#include "policies/tokenizer.h"
#include "rewards/reward_pool.h"
#include "train/recipe.h"

namespace grpo::train {

// The parts of a run. Owns them; the template borrows the tokenizer.
struct TrainComponents {
  std::shared_ptr<policies::CausalLM> policy;
  std::unique_ptr<policies::Tokenizer> tokenizer;
  std::unique_ptr<policies::PromptTemplate> prompt_template;
  Dataset train_data;
  Dataset eval_data;  // may be empty
  std::unique_ptr<rewards::RewardPool> rewards;
};

// Loads or initialises the policy (from `policy_dir` when given, else the
// recipe's model), the tokenizer, template, datasets and rewards. Throws
// ConfigError / IoError naming the recipe key or file at fault.
TrainComponents build_components(const Recipe& recipe, const std::optional<std::string>& policy_dir = std::nullopt);

// The policy of model.path, or a fresh one of model.init_arch/init_preset
// seeded by run.seed, on model.device in model.dtype. Throws ConfigError
// naming model.device when that device is malformed or not available.
std::shared_ptr<policies::CausalLM> load_policy(const policies::ModelSpec& model, uint64_t seed);

// The tokenizer of tokenizer.path, else of model.path.
policies::Tokenizer load_tokenizer(const Recipe& recipe);

// Throws ConfigError (tokenizer.path) when the tokenizer has ids the model's vocabulary lacks.
void check_tokenizer_fits(const policies::Tokenizer& tokenizer, const policies::CausalLM& policy);

// Training and evaluation rows of the recipe's data section.
std::pair<Dataset, Dataset> load_datasets(const DataConfig& data, uint64_t seed);

// A dataset row as template placeholders: every scalar field as text, and the
// question field also as {prompt} (the name the built-in templates use).
policies::TemplateRow template_row(const nlohmann::json& fields, const std::string& prompt_field);

}  // namespace grpo::train
