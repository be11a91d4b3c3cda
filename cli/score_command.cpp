// `grpo score`: grades completions from a JSON-lines file with a recipe's
// rewards or one named reward, printing each sample's components and total
// as JSON lines on stdout and a summary on stderr.
//
//   grpo score --recipe recipes/r1.json --input samples.jsonl
//   grpo score --reward math --param answer_field=solution --input samples.jsonl
//
// Each input line is an object with "completion" (required), optional
// "prompt", "completion_tokens" (else the count of whitespace-separated words)
// and "finish_reason"; the whole object is the dataset row the rewards read
// (gold "answer", countdown "nums"/"target", ...).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "train/recipe.h"
#include "core/error.h"
#include "rewards/reward_pool.h"

namespace grpo::cli {

namespace {

struct ScoreArgs {
  std::string recipe;
  std::vector<std::string> overrides;
  std::string reward;
  std::vector<std::string> params;
  std::string input;
  size_t threads = 0;
};

// "key=value": the value as JSON when it parses ("3", "true", "[1,2]"), else as a string.
rewards::RewardSpec spec_from_flags(const ScoreArgs& a) {
  rewards::RewardSpec spec;
  spec.type = a.reward;
  for (const std::string& kv : a.params) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw Error("--param " + kv + ": expected key=value, e.g. --param answer_field=solution");
    std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;
    if (key == "command") {
      spec.command = value.is_array() ? value.get<std::vector<std::string>>() : std::vector<std::string>{text};
    } else if (key == "library") {
      spec.library = text;
    } else if (key == "timeout_s") {
      if (!value.is_number()) throw Error("--param timeout_s: expected seconds, got " + text);
      spec.timeout_s = value.get<double>();
    } else {
      spec.params[key] = value;
    }
  }
  return spec;
}

rewards::Sample sample_from_line(const std::string& line, const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw Error(where + ": not a JSON object: " + line.substr(0, 80));
  if (!j.contains("completion") || !j["completion"].is_string())
    throw Error(where + ": missing \"completion\" (a string); each line needs {\"completion\": ..., \"answer\": ...}");
  rewards::Sample s;
  s.completion = j["completion"].get<std::string>();
  if (j.contains("prompt") && j["prompt"].is_string()) s.prompt = j["prompt"].get<std::string>();
  if (j.contains("finish_reason") && j["finish_reason"].is_string()) s.finish_reason = j["finish_reason"].get<std::string>();
  if (j.contains("completion_tokens")) {
    if (!j["completion_tokens"].is_number_integer()) throw Error(where + ": \"completion_tokens\" must be an integer");
    s.completion_tokens = j["completion_tokens"].get<int64_t>();
  } else {
    std::istringstream words(s.completion);
    std::string w;
    while (words >> w) ++s.completion_tokens;
  }
  s.row = std::move(j);
  return s;
}

void print_summary(const rewards::RewardPool& pool, const std::vector<rewards::ScoredSample>& all) {
  const auto names = pool.names();
  double total = 0;
  std::vector<double> sum(names.size(), 0), positive(names.size(), 0), counted(names.size(), 0);
  for (const auto& s : all) {
    total += s.total;
    for (size_t k = 0; k < names.size(); ++k) {
      if (!s.components[k].has_score) continue;
      sum[k] += s.components[k].score;
      positive[k] += s.components[k].score > 0 ? 1 : 0;
      counted[k] += 1;
    }
  }
  const double n = static_cast<double>(all.size());
  std::cerr << "samples " << all.size() << "  mean total " << (all.empty() ? 0.0 : total / n) << "\n";
  const auto errors = pool.error_counts();
  for (size_t k = 0; k < names.size(); ++k) {
    std::cerr << "  " << names[k] << ": mean " << (counted[k] ? sum[k] / counted[k] : 0.0) << "  accuracy (score > 0) "
              << (counted[k] ? positive[k] / counted[k] : 0.0) << "  errors " << errors[k] << "\n";
  }
}

void run_score(const ScoreArgs& a) {
  std::vector<rewards::RewardSpec> specs;
  if (!a.recipe.empty()) {
    specs = load_recipe(a.recipe, a.overrides).rewards;
  } else {
    specs.push_back(spec_from_flags(a));
  }
  rewards::RewardPool pool(specs, a.threads);
  std::ifstream in(a.input);
  if (!in) throw IoError(a.input, "cannot open the samples file");
  std::vector<rewards::Sample> samples;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    samples.push_back(sample_from_line(line, a.input + ":" + std::to_string(number)));
  }
  std::vector<rewards::ScoredSample> scored = pool.score(samples);
  const auto names = pool.names();
  for (size_t i = 0; i < scored.size(); ++i) {
    nlohmann::json out = {{"index", i}, {"total", scored[i].total}, {"components", nlohmann::json::object()}};
    for (size_t k = 0; k < names.size(); ++k) {
      const auto& r = scored[i].components[k];
      out["components"][names[k]] = r.has_score ? nlohmann::json(r.score) : nlohmann::json(nullptr);
      if (!r.error.empty()) out["errors"][names[k]] = r.error;
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  print_summary(pool, scored);
}

}  // namespace

void add_score_command(CLI::App& root) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* score = root.add_subcommand("score", "Grade completions (JSON lines) with a recipe's rewards or one reward");
  auto* recipe = score->add_option("--recipe", args->recipe, "Recipe whose rewards to use")->check(CLI::ExistingFile);
  score->add_option("--set", args->overrides, "Override a recipe key: --set rewards.0.weight=2 (repeatable)")->needs(recipe);
  auto* reward = score->add_option("--reward", args->reward, "One reward type instead of a recipe: math, format, length, countdown, command, plugin");
  score->add_option("--param", args->params, "Parameter of --reward: key=value, value as JSON when it parses (repeatable)")->needs(reward);
  score->add_option("--input", args->input, "JSON-lines file, one {\"completion\": ..., <row fields>} per line")->required()->check(CLI::ExistingFile);
  score->add_option("--threads", args->threads, "Scoring threads; 0 = one per core")->capture_default_str();
  recipe->excludes(reward);
  score->callback([args] {
    if (args->recipe.empty() && args->reward.empty())
      throw CLI::ValidationError("--recipe/--reward", "give --recipe RECIPE or --reward NAME");
    run_score(*args);
  });
}

}  // namespace grpo::cli
