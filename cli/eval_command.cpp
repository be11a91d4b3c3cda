// `grpo eval CHECKPOINT --data FILE|countdown|arithmetic --rewards LIST`:
// accuracy, pass@k, format rate and completion length of a policy on a
// dataset (train/evaluation.h), greedy by default or sampled with
// --temperature. The flags become a recipe (over --recipe's, when given), so
// the evaluation loads, prompts and grades exactly as `grpo train` does, and
// every mistake is reported against the flag or file it came from. The
// results go to a run directory (--run-dir/--name) and to stdout as a table
// (or one JSON object with --json).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "core/error.h"
#include "core/recipe_file.h"
#include "core/run_directory.h"
#include "core/torch_runtime.h"
#include "core/version.h"
#include "train/evaluation.h"

namespace grpo::cli {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string checkpoint;
  std::string tokenizer;
  std::string recipe;
  std::vector<std::string> overrides;
  std::string data;
  int64_t size = 0;
  std::vector<std::string> data_params;
  std::string prompt_field;
  std::string answer_field;
  std::string rewards;
  std::string template_name;
  std::string template_text;
  bool greedy = false;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> top_k;
  std::optional<double> min_p;
  std::optional<int> max_new_tokens;
  std::vector<std::string> stops;
  bool include_stop = false;
  int n = 0;  // 0: 1 when greedy, else the largest k
  std::vector<int64_t> ks;
  std::optional<int64_t> seed;
  std::string run_dir = "runs";
  std::string name;
  std::optional<int> threads;
  std::optional<int> max_slots;
  std::optional<int64_t> kv_budget;
  bool json = false;
};

// Sets `key_path` ("a.b.c") in the document and remembers `flag` as its origin for error messages.
void set_key(RecipeDocument& doc, const std::string& key_path, const nlohmann::json& value, const std::string& flag) {
  std::string pointer = "/" + key_path;
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  doc.root[nlohmann::json::json_pointer(pointer)] = value;
  doc.origins.set(key_path, flag);
}

// A checkpoint directory, or a `grpo train` checkpoint whose policy/ holds it.
std::string policy_directory(const std::string& checkpoint) {
  if (fs::exists(fs::path(checkpoint) / "config.json")) return checkpoint;
  if (fs::exists(fs::path(checkpoint) / "policy" / "config.json")) return (fs::path(checkpoint) / "policy").string();
  throw IoError(checkpoint, "no checkpoint here (no config.json, nor policy/config.json): make one with `grpo model init`, `grpo sft` or `grpo train`");
}

// "math,format" as reward specs, or a JSON list of them as written in a recipe.
nlohmann::json reward_list(const std::string& text) {
  if (text.find_first_not_of(" \t") != std::string::npos && text[text.find_first_not_of(" \t")] == '[') {
    nlohmann::json list = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (list.is_discarded()) throw Error("--rewards: not valid JSON: " + text + " (give math,format or a list such as [{\"type\": \"math\"}])");
    return list;
  }
  nlohmann::json list = nlohmann::json::array();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string type = text.substr(start, comma - start);
    if (type.empty()) throw Error("--rewards " + text + ": empty reward name; give types separated by commas, e.g. countdown,format");
    list.push_back({{"type", type}});
    start = comma + 1;
  }
  return list;
}

void set_data(RecipeDocument& doc, const EvalArgs& a) {
  bool generator = (a.data == "countdown" || a.data == "arithmetic") && !fs::exists(a.data);
  if (generator) {
    // The task's held-out split, exactly as a recipe with this seed holds it out.
    set_key(doc, "data.generator", a.data, "--data");
    set_key(doc, "data.train", "", "--data");
    set_key(doc, "data.eval", "", "--data");
    if (a.size > 0) set_key(doc, "data.eval_size", a.size, "--size");
  } else {
    set_key(doc, "data.generator", "", "--data");
    set_key(doc, "data.train", a.data, "--data");
    set_key(doc, "data.eval", a.data, "--data");
  }
  for (const auto& p : a.data_params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw Error("--param " + p + ": expected KEY=VALUE, e.g. --param max_number=20");
    nlohmann::json value = nlohmann::json::parse(p.substr(eq + 1), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = p.substr(eq + 1);
    set_key(doc, "data.generator_params." + p.substr(0, eq), value, "--param " + p);
  }
}

void set_sampling(RecipeDocument& doc, const EvalArgs& a) {
  // Greedy unless a temperature is asked for: the recipe's training temperature is not an evaluation setting.
  set_key(doc, "rollout.temperature", a.temperature.value_or(0.0), a.temperature ? "--temperature" : "--greedy");
  if (a.top_p) set_key(doc, "rollout.top_p", *a.top_p, "--top-p");
  if (a.top_k) set_key(doc, "rollout.top_k", *a.top_k, "--top-k");
  if (a.min_p) set_key(doc, "rollout.min_p", *a.min_p, "--min-p");
  if (a.max_new_tokens) set_key(doc, "rollout.max_new_tokens", *a.max_new_tokens, "--max-new-tokens");
  if (!a.stops.empty()) set_key(doc, "rollout.stop_strings", a.stops, "--stop");
  if (a.include_stop) set_key(doc, "rollout.include_stop_string", true, "--include-stop");
  if (a.max_slots) set_key(doc, "rollout.max_slots", *a.max_slots, "--max-slots");
  if (a.kv_budget) set_key(doc, "rollout.kv_budget_tokens", *a.kv_budget, "--kv-budget");
  set_key(doc, "rollout.workers", 0, "grpo eval");  // the engine in this process
}

// The evaluation as a recipe document: --recipe's (with --set) under the flags.
RecipeDocument eval_document(const EvalArgs& a) {
  RecipeDocument doc;
  doc.file = "grpo eval";
  doc.origins = Origins("grpo eval");
  if (!a.recipe.empty()) doc = load_recipe_document(a.recipe);
  for (const auto& s : a.overrides) apply_override(doc, s);
  set_key(doc, "model.path", policy_directory(a.checkpoint), "CHECKPOINT " + a.checkpoint);
  if (!a.tokenizer.empty()) set_key(doc, "tokenizer.path", a.tokenizer, "--tokenizer");
  if (!a.data.empty()) set_data(doc, a);
  else if (a.recipe.empty()) throw CLI::RequiredError("--data (a JSON-lines file, countdown or arithmetic)");
  if (!a.prompt_field.empty()) set_key(doc, "data.prompt_field", a.prompt_field, "--prompt-field");
  if (!a.answer_field.empty()) set_key(doc, "data.answer_field", a.answer_field, "--answer-field");
  if (!a.rewards.empty()) set_key(doc, "rewards", reward_list(a.rewards), "--rewards");
  else if (a.recipe.empty()) throw CLI::RequiredError("--rewards (e.g. countdown,format or math,format)");
  if (!a.template_name.empty()) set_key(doc, "template.name", a.template_name, "--template");
  if (!a.template_text.empty()) set_key(doc, "template.text", a.template_text, "--template-text");
  set_sampling(doc, a);
  if (a.seed) set_key(doc, "run.seed", *a.seed, "--seed");
  if (a.threads) set_key(doc, "run.threads", *a.threads, "--threads");
  set_key(doc, "run.dir", a.run_dir, "--run-dir");
  std::string name = a.name.empty() ? "eval-" + fs::path(a.checkpoint).lexically_normal().filename().string() : a.name;
  set_key(doc, "run.name", name, "--name");
  return doc;
}

// Everything the evaluation needs, checked. The errors name recipe keys; here
// most came from flags, so name those.
train::TrainComponents build_attributed(const Recipe& recipe, const Origins& origins) {
  try {
    train::TrainComponents c = train::build_components(recipe);
    train::check_evaluable(recipe, c);
    return c;
  } catch (const ConfigError& e) {
    if (!e.file().empty()) throw;
    std::string message = e.what();
    std::string prefix = "<recipe>: " + e.key_path() + ": ";
    if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    throw ConfigError(origins.of(e.key_path()), e.key_path(), message);
  }
}

// The first `size` rows of a file dataset (a generator makes exactly data.eval_size).
void keep_first(Dataset& data, int64_t size) {
  if (size <= 0 || static_cast<int64_t>(data.size()) <= size) return;
  std::vector<DatasetRow> rows(data.rows().begin(), data.rows().begin() + size);
  data = Dataset(data.name(), std::move(rows));
}

nlohmann::json description(const Recipe& r, const train::EvalResult& result, const std::string& data_name) {
  return {{"checkpoint", r.model.path},
          {"data", data_name},
          {"problems", result.problems},
          {"samples_per_problem", result.samples_per_problem},
          {"decoding", r.rollout.temperature == 0.0 ? "greedy" : "sampled"},
          {"temperature", r.rollout.temperature},
          {"max_new_tokens", r.rollout.max_new_tokens},
          {"seed", r.run.seed},
          {"rewards", recipe_to_json(r)["rewards"]}};
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void print_table(const nlohmann::json& d, const train::EvalResult& r, const std::vector<std::string>& components,
                 const std::string& run_dir) {
  std::cout << "checkpoint  " << d["checkpoint"].get<std::string>() << "\n"
            << "data        " << d["data"].get<std::string>() << ": " << r.problems << " problems x "
            << r.samples_per_problem << " completion(s), " << d["decoding"].get<std::string>();
  if (d["decoding"] == "sampled") std::cout << " at temperature " << d["temperature"].get<double>();
  std::cout << "\n\n";
  std::vector<std::pair<std::string, std::string>> rows = {{"accuracy", "accuracy/mean"}};
  for (const auto& [name, value] : r.metrics)
    if (name.rfind("pass@", 0) == 0) rows.push_back({name, name});
  rows.push_back({"format rate", "format/rate"});
  rows.push_back({"mean length (tokens)", "completion/length/mean"});
  rows.push_back({"clipped at max length", "completion/clipped_ratio"});
  rows.push_back({"mean reward", "reward/mean"});
  for (const auto& c : components) rows.push_back({"mean reward: " + c, "reward/" + c + "/mean"});
  std::cout << "metric                     value\n";
  for (const auto& [label, key] : rows) {
    auto it = r.metrics.find(key);
    if (it == r.metrics.end()) continue;
    std::string padded = label + std::string(label.size() < 27 ? 27 - label.size() : 1, ' ');
    std::cout << padded << fixed(it->second, key == "completion/length/mean" ? 1 : 4) << "\n";
  }
  std::cout << "\nrun store   " << run_dir << "/run.db\n";
}

void run_eval(const EvalArgs& a) {
  RecipeDocument doc = eval_document(a);
  Recipe recipe = read_config<Recipe>(doc.root, doc.origins);
  configure_torch_threads(recipe.run.threads);
  train::EvalOptions options;
  options.ks = a.ks.empty() ? std::vector<int64_t>{1} : a.ks;
  options.samples_per_problem = a.n > 0 ? a.n : recipe.rollout.temperature == 0.0 ? 1 : static_cast<int>(*std::max_element(options.ks.begin(), options.ks.end()));
  options.validate(recipe.rollout.temperature == 0.0);

  train::TrainComponents components = build_attributed(recipe, doc.origins);
  if (!a.data.empty() && recipe.data.generator.empty()) keep_first(components.eval_data, a.size);
  std::string run_path = (fs::path(recipe.run.dir) / recipe.run.name).string();
  if (fs::exists(fs::path(run_path) / "run.db"))
    throw IoError(run_path, "a run already exists here: pick another --name or remove the directory");

  RunDirectory dir = RunDirectory::create(recipe.run, recipe_to_json(recipe).dump(2), kVersion);
  try {
    auto backend = train::make_rollout_backend(recipe, components, dir.path());
    backend->publish(train::kEvaluatedVersion);
    train::EvalResult result = train::evaluate(*backend, components, recipe, options);
    nlohmann::json d = description(recipe, result, components.eval_data.name());
    train::write_evaluation(dir.store(), result, d);
    dir.finish("completed");
    if (a.json) {
      d["run_dir"] = dir.path();
      d["metrics"] = result.metrics;
      std::cout << d.dump(2) << "\n";
    } else {
      print_table(d, result, components.rewards->names(), dir.path());
    }
  } catch (const std::exception& e) {
    dir.store().add_event({-1, "error", "eval", e.what()});
    dir.finish("failed");
    throw;
  }
}

}  // namespace

void add_eval_command(CLI::App& root) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = root.add_subcommand("eval", "Accuracy, pass@k, format rate and length of a checkpoint on a dataset");
  cmd->add_option("checkpoint", a->checkpoint, "Checkpoint directory (Hugging Face layout, or a grpo train checkpoint)")->required();
  cmd->add_option("--data", a->data, "JSON-lines file of problems, or countdown / arithmetic (the task's held-out split)");
  cmd->add_option("--size", a->size, "Problems: the generator's held-out rows, or the first N lines of a file")->check(CLI::PositiveNumber);
  cmd->add_option("--param", a->data_params, "Generator parameter KEY=VALUE, e.g. --param max_number=20 (repeatable)");
  cmd->add_option("--prompt-field", a->prompt_field, "Row field holding the question (default question)");
  cmd->add_option("--answer-field", a->answer_field, "Row field holding the gold answer (default answer)");
  cmd->add_option("--rewards", a->rewards, "Rewards: types joined by commas (countdown,format) or a JSON list as in a recipe");
  auto* recipe = cmd->add_option("--recipe", a->recipe, "Take data, template, rewards and sampling from this recipe; flags override it")
                     ->check(CLI::ExistingFile);
  cmd->add_option("--set", a->overrides, "Override a key of --recipe: --set data.eval_size=50 (repeatable)")->needs(recipe);
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json or its directory (default: the checkpoint's)");
  cmd->add_option("--template", a->template_name, "Prompt template: r1_zero (default), plain, chatml, deepseek");
  cmd->add_option("--template-text", a->template_text, "Text of the plain template, with {question}-style placeholders");
  auto* greedy = cmd->add_flag("--greedy", a->greedy, "Greedy decoding (the default unless --temperature is given)");
  auto* temperature = cmd->add_option("--temperature", a->temperature, "Sample at this temperature instead of greedy decoding");
  greedy->excludes(temperature);
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling threshold (1 = off)");
  cmd->add_option("--top-k", a->top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--min-p", a->min_p, "Drop tokens below min_p x the top probability (0 = off)");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Longest completion (default: the recipe's, else 256)");
  cmd->add_option("--stop", a->stops, "Stop string (repeatable), e.g. --stop '</answer>'");
  cmd->add_flag("--include-stop", a->include_stop, "Keep the stop string in the completion (so a format reward sees it)");
  cmd->add_option("--n", a->n, "Completions per problem (default: 1 greedy, else the largest --k)")->check(CLI::PositiveNumber);
  cmd->add_option("--k", a->ks, "Report pass@k for this k (repeatable; default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "Seed of the sampling streams and of a generated dataset (default: the recipe's, else 0)");
  cmd->add_option("--run-dir", a->run_dir, "Parent directory of the evaluation's run directory")->capture_default_str();
  cmd->add_option("--name", a->name, "Run name (default eval-<checkpoint folder>); must not exist yet");
  cmd->add_option("--threads", a->threads, "LibTorch threads (0 = available cores)");
  cmd->add_option("--max-slots", a->max_slots, "Sequences decoded together");
  cmd->add_option("--kv-budget", a->kv_budget, "KV-cache tokens the engine may hold");
  cmd->add_flag("--json", a->json, "Print one JSON object instead of the table");
  cmd->callback([a] { run_eval(*a); });
}

}  // namespace grpo::cli
