// `grpo generate CHECKPOINT --prompt TEXT | --input prompts.jsonl [--n G]
// [sampling flags] [--device cpu|cuda|cuda:N] [--dtype D] [--decode M]`: sample completions from a checkpoint with the rollout
// engine and print one JSON line per completion.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/device.h"
#include "core/error.h"
#include "core/torch_runtime.h"
#include "policies/causal_lm.h"
#include "policies/placement.h"
#include "policies/tokenizer.h"
#include "rollout/engine.h"
#include "rollout/from_config.h"

namespace grpo::cli {

namespace {

struct GenerateArgs {
  std::string checkpoint;
  std::string tokenizer;
  std::string prompt;
  std::string input;
  int n = 1;
  rollout::SamplingParams params;
  rollout::EngineOptions engine;
  bool no_eos_stop = false;
  int threads = 0;
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string decode = "eager";
};

// Prompts from --prompt or the "prompt" field (or bare string) of each JSONL line.
std::vector<std::string> read_prompts(const GenerateArgs& a) {
  if (!a.prompt.empty()) return {a.prompt};
  std::ifstream in(a.input);
  if (!in) throw IoError(a.input, "cannot read prompts file");
  std::vector<std::string> prompts;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_string()) prompts.push_back(j.get<std::string>());
    else if (j.is_object() && j.contains("prompt") && j["prompt"].is_string()) prompts.push_back(j["prompt"].get<std::string>());
    else throw IoError(a.input + ":" + std::to_string(line_no), "expected a JSON string or an object with a string \"prompt\"");
  }
  return prompts;
}

void run_generate(const GenerateArgs& a) {
  configure_torch_threads(a.threads);
  policies::LoadOptions placement;
  placement.device = device_from_config(a.device, "--device");
  placement.dtype = policies::dtype_from_name(a.dtype);
  auto model = policies::CausalLM::load(a.checkpoint, placement);
  auto tokenizer = policies::Tokenizer::load(a.tokenizer.empty() ? a.checkpoint : a.tokenizer);
  rollout::SamplingParams params = a.params;
  if (!a.no_eos_stop)
    for (int64_t eos : model->config().eos_token_ids) params.stop_token_ids.push_back(eos);
  params.validate();
  auto decode = [&tokenizer](const std::vector<int64_t>& ids) {
    return tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()), /*skip_special_tokens=*/true);
  };
  std::vector<std::string> prompts = read_prompts(a);
  std::vector<rollout::GroupRequest> requests;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto ids = tokenizer.encode(prompts[i]);
    rollout::GroupRequest r;
    r.id = static_cast<int64_t>(i);
    r.prompt_ids.assign(ids.begin(), ids.end());
    r.n = a.n;
    r.params = params;
    r.params.seed = rollout::sequence_seed(params.seed, static_cast<int64_t>(i));  // distinct prompts, distinct streams
    if (r.prompt_ids.empty()) throw Error("prompt " + std::to_string(i) + " encodes to no tokens");
    requests.push_back(std::move(r));
  }
  rollout::EngineOptions engine_options = a.engine;
  engine_options.decode = rollout::decode_mode_from_name(a.decode);
  rollout::Engine engine(model, engine_options, decode);
  for (const rollout::GroupResult& g : engine.generate(requests)) {
    for (size_t j = 0; j < g.completions.size(); ++j) {
      const auto& c = g.completions[j];
      nlohmann::json line = {{"prompt_index", g.id}, {"prompt", prompts[g.id]}, {"completion_index", j},
                             {"text", c.text}, {"ids", c.ids}, {"logprobs", c.logprobs},
                             {"finish_reason", rollout::finish_reason_name(c.finish_reason)}};
      std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  }
}

}  // namespace

void add_generate_command(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("generate", "Sample completions from a checkpoint (JSON lines on stdout)");
  auto a = std::make_shared<GenerateArgs>();
  cmd->add_option("checkpoint", a->checkpoint, "Hugging Face checkpoint directory")->required()->check(CLI::ExistingDirectory);
  auto* prompt = cmd->add_option("--prompt", a->prompt, "Prompt text (used as is, no template)");
  auto* input = cmd->add_option("--input", a->input, "JSONL file of prompts: strings or {\"prompt\": ...}")->check(CLI::ExistingFile);
  prompt->excludes(input);
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json or its directory (default: the checkpoint)");
  cmd->add_option("--n", a->n, "Completions per prompt")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", a->params.temperature, "Sampling temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-p", a->params.top_p, "Nucleus sampling threshold (1 = off)")->capture_default_str();
  cmd->add_option("--top-k", a->params.top_k, "Keep the k most likely tokens (0 = off)")->capture_default_str();
  cmd->add_option("--min-p", a->params.min_p, "Drop tokens below min_p x the top probability (0 = off)")->capture_default_str();
  cmd->add_option("--max-new-tokens", a->params.max_new_tokens, "Longest completion")->capture_default_str();
  cmd->add_option("--stop", a->params.stop_strings, "Stop string (repeatable); cut from the output");
  cmd->add_flag("--include-stop", a->params.include_stop_string, "Keep the stop string in the output");
  cmd->add_flag("--no-eos-stop", a->no_eos_stop, "Do not stop at the model's EOS tokens");
  cmd->add_option("--seed", a->params.seed, "Seed of the random streams")->capture_default_str();
  cmd->add_option("--max-slots", a->engine.max_slots, "Sequences decoded together")->capture_default_str();
  cmd->add_option("--kv-budget", a->engine.kv_budget_tokens, "KV-cache tokens the engine may hold")->capture_default_str();
  cmd->add_option("--threads", a->threads, "LibTorch threads (0 = available cores)")->capture_default_str();
  cmd->add_option("--device", a->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", a->dtype, "Weights' dtype")->capture_default_str()->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
  cmd->add_option("--decode", a->decode, "Decode step: eager, static (fixed shapes) or cuda_graphs (CUDA device)")
      ->capture_default_str()
      ->check(CLI::IsMember({"eager", "static", "cuda_graphs"}));
  cmd->callback([a] {
    if (a->prompt.empty() && a->input.empty()) throw CLI::RequiredError("--prompt or --input");
    run_generate(*a);
  });
}

}  // namespace grpo::cli
