// data_config.h: the `data` section of a recipe: where prompts come from.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace grpo {

// A JSON-lines dataset or a procedural generator, and the row fields used.
struct DataConfig {
  std::string train;
  std::string eval;
  std::string generator;
  int64_t generator_size = 1000;
  int64_t eval_size = 200;
  nlohmann::json generator_params = nlohmann::json::object();
  std::string prompt_field = "question";
  std::string answer_field = "answer";
  int prompts_per_step = 4;
  bool shuffle = true;

  template <class V> void fields(V& v) {
    v.field("train", train, "JSON-lines file of training rows; empty when a generator is used.");
    v.field("eval", eval, "JSON-lines file of held-out rows for evaluation; empty for none.");
    v.field("generator", generator, "Procedural task instead of a file: countdown, arithmetic.");
    v.field("generator_size", generator_size, "Training rows the generator makes (seeded by run.seed).");
    v.field("eval_size", eval_size, "Held-out rows the generator makes for evaluation, disjoint from the training rows.");
    v.field("generator_params", generator_params, "Task parameters, see core/task_generators.h (countdown: min_numbers, max_numbers, max_number, max_target; arithmetic: max_operand, ops).");
    v.field("prompt_field", prompt_field, "Row field holding the question, placed into the template.");
    v.field("answer_field", answer_field, "Row field holding the gold answer, given to the rewards.");
    v.field("prompts_per_step", prompts_per_step, "Prompts per optimizer step; each yields rollout.num_generations completions.");
    v.field("shuffle", shuffle, "Shuffle rows every epoch (seeded by run.seed).");
    v.check(!train.empty() || !generator.empty(), "train", "set data.train to a JSON-lines file or data.generator to a task");
    v.check(generator.empty() || generator == "countdown" || generator == "arithmetic", "generator", "must be countdown or arithmetic");
    v.check(generator_size >= 1, "generator_size", "must be >= 1");
    v.check(eval_size >= 0, "eval_size", "must be >= 0");
    v.check(prompts_per_step >= 1, "prompts_per_step", "must be >= 1");
  }
};

}  // namespace grpo
