#include "train/components.h"

#include <filesystem>

#include "core/device.h"
#include "core/error.h"
#include "core/task_generators.h"
#include "policies/placement.h"

namespace grpo::train {
namespace fs = std::filesystem;

std::shared_ptr<policies::CausalLM> load_policy(const policies::ModelSpec& model, uint64_t seed) {
  policies::LoadOptions placement;
  placement.device = device_from_config(model.device, "model.device");
  placement.dtype = policies::dtype_from_name(model.dtype);
  if (!model.path.empty()) {
    if (!fs::exists(fs::path(model.path) / "config.json"))
      throw ConfigError("", "model.path", "no checkpoint at '" + model.path + "' (config.json missing); make one with `grpo model init` or `grpo sft`");
    return policies::CausalLM::load(model.path, placement);
  }
  policies::ModelConfig config = policies::ModelConfig::preset(model.init_arch, model.init_preset);
  // Initialised on the CPU (one random stream whatever the device), then placed.
  auto policy = policies::CausalLM::create(config, seed);
  policies::place_model(*policy, placement.device, placement.dtype);
  return policy;
}

policies::Tokenizer load_tokenizer(const Recipe& recipe) {
  std::string path = !recipe.tokenizer.path.empty() ? recipe.tokenizer.path : recipe.model.path;
  if (path.empty())
    throw ConfigError("", "tokenizer.path",
                      "a randomly initialised model has no tokenizer: set tokenizer.path (train one with `grpo tokenizer train`)");
  std::string key = recipe.tokenizer.path.empty() ? "model.path" : "tokenizer.path";
  fs::path file = fs::is_directory(path) ? fs::path(path) / "tokenizer.json" : fs::path(path);
  if (!fs::exists(file)) throw ConfigError("", key, "no tokenizer.json at '" + file.string() + "'");
  return policies::Tokenizer::load(path);
}

std::pair<Dataset, Dataset> load_datasets(const DataConfig& data, uint64_t seed) {
  if (!data.train.empty()) {
    std::vector<std::string> required = {data.prompt_field};
    Dataset train = Dataset::load_jsonl(data.train, required);
    Dataset eval = data.eval.empty() ? Dataset() : Dataset::load_jsonl(data.eval, required);
    return {std::move(train), std::move(eval)};
  }
  TaskSplit split = generate_task_split(data.generator, data.generator_size, data.eval_size, seed, data.generator_params);
  return {std::move(split.train), std::move(split.eval)};
}

void check_tokenizer_fits(const policies::Tokenizer& tokenizer, const policies::CausalLM& policy) {
  if (tokenizer.vocab_size() > policy.config().vocab_size)
    throw ConfigError("", "tokenizer.path",
                      "tokenizer has " + std::to_string(tokenizer.vocab_size()) + " tokens but the model's vocabulary holds " +
                          std::to_string(policy.config().vocab_size) + ": use the tokenizer the model was made for");
}

policies::TemplateRow template_row(const nlohmann::json& fields, const std::string& prompt_field) {
  policies::TemplateRow row;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->is_string()) row[it.key()] = it->get<std::string>();
    else if (it->is_primitive()) row[it.key()] = it->dump();
  }
  auto q = row.find(prompt_field);
  if (q != row.end()) row["prompt"] = q->second;
  return row;
}

TrainComponents build_components(const Recipe& recipe, const std::optional<std::string>& policy_dir) {
  TrainComponents c;
  // Cheap checks first: a typo in a reward or a dataset must not wait for a model load.
  c.rewards = std::make_unique<rewards::RewardPool>(recipe.rewards);
  auto [train, eval] = load_datasets(recipe.data, static_cast<uint64_t>(recipe.run.seed));
  c.train_data = std::move(train);
  c.eval_data = std::move(eval);
  c.tokenizer = std::make_unique<policies::Tokenizer>(load_tokenizer(recipe));
  c.prompt_template = std::make_unique<policies::PromptTemplate>(recipe.prompt_template, *c.tokenizer);
  if (policy_dir) {
    policies::ModelSpec from_checkpoint = recipe.model;
    from_checkpoint.path = *policy_dir;
    c.policy = load_policy(from_checkpoint, 0);
  } else {
    c.policy = load_policy(recipe.model, static_cast<uint64_t>(recipe.run.seed));
  }
  check_tokenizer_fits(*c.tokenizer, *c.policy);
  return c;
}

}  // namespace grpo::train
