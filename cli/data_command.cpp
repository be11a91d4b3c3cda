// `grpo data generate TASK`: rows of a procedural task as JSON lines, e.g. to
// look at what a recipe trains on or to build a corpus for a tokenizer.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/task_generators.h"

namespace grpo::cli {

void add_data_command(CLI::App& root) {
  CLI::App* data = root.add_subcommand("data", "Datasets: generate procedural tasks");
  data->require_subcommand(1);
  struct Args {
    std::string task;
    int64_t size = 100;
    uint64_t seed = 0;
    std::vector<std::string> params;
    bool eval = false;
    int64_t eval_size = 200;
  };
  auto args = std::make_shared<Args>();
  CLI::App* gen = data->add_subcommand("generate", "Print rows of a task as JSON lines (fields: question, answer, ...)");
  gen->add_option("task", args->task, "countdown or arithmetic")->required()->check(CLI::IsMember({"countdown", "arithmetic"}));
  gen->add_option("--size", args->size, "Rows to print")->capture_default_str()->check(CLI::PositiveNumber);
  gen->add_option("--seed", args->seed, "Seed (the recipe's run.seed gives the same rows)")->capture_default_str();
  gen->add_option("--param", args->params, "Task parameter KEY=INT, e.g. --param max_number=20 (repeatable)");
  gen->add_flag("--eval", args->eval, "Print the held-out rows instead (as a recipe with this seed would hold out)");
  gen->add_option("--eval-size", args->eval_size, "Held-out rows of the split (data.eval_size)")->capture_default_str();
  gen->callback([args] {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& p : args->params) {
      auto eq = p.find('=');
      if (eq == std::string::npos) throw CLI::ValidationError("--param", "expected KEY=VALUE, got '" + p + "'");
      std::string value = p.substr(eq + 1);
      try {
        params[p.substr(0, eq)] = nlohmann::json::parse(value);
      } catch (const nlohmann::json::parse_error&) {
        params[p.substr(0, eq)] = value;
      }
    }
    TaskSplit split = generate_task_split(args->task, args->size, args->eval_size, args->seed, params);
    const Dataset& rows = args->eval ? split.eval : split.train;
    for (const auto& r : rows.rows()) std::cout << r.fields.dump() << "\n";
  });
}

}  // namespace grpo::cli
