// `grpo serve CHECKPOINT [--port P] [--host H] [--api-key K] [--template T]`:
// an OpenAI-compatible HTTP server over a checkpoint (serve/server.h). Prints
// one line "grpo serve: listening on http://HOST:PORT/v1 (model NAME)" on
// stdout once it accepts requests; SIGINT/SIGTERM stop it (exit 0).
#include <CLI/CLI.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <thread>

#include <torch/torch.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/torch_runtime.h"
#include "policies/causal_lm.h"
#include "serve/chat_template.h"
#include "serve/server.h"
#include "train/recipe.h"

namespace grpo::cli {

namespace {

struct ServeArgs {
  std::string checkpoint;
  std::string tokenizer;
  std::string model_name;
  std::string template_name = "auto";
  std::string recipe;
  int64_t max_context = 0;
  std::string device = "cpu";
  std::string dtype = "float32";
  serve::ServerOptions server;
  rollout::EngineOptions engine;
  int threads = 0;
};

policies::LoadOptions load_options(const ServeArgs& a) {
  policies::LoadOptions o;
  try {
    o.device = torch::Device(a.device);
  } catch (const std::exception&) {
    throw Error("--device: expected cpu, cuda or cuda:N, got \"" + a.device + "\"");
  }
  o.dtype = a.dtype == "bfloat16" ? torch::kBFloat16 : a.dtype == "float16" ? torch::kHalf : torch::kFloat;
  return o;
}

// --recipe's template section, --template NAME, or the checkpoint's own (auto).
policies::TemplateSpec chat_template(const ServeArgs& a, const std::string& tokenizer_path, const policies::Tokenizer& tokenizer) {
  if (!a.recipe.empty()) return load_recipe(a.recipe).prompt_template;
  if (a.template_name == "auto") return serve::detect_chat_template(tokenizer_path, tokenizer);
  policies::TemplateSpec spec;
  spec.name = a.template_name;
  return spec;
}

serve::ServedModel served_model(const ServeArgs& a, const policies::ModelConfig& config, const policies::PromptTemplate& tpl) {
  serve::ServedModel m;
  m.name = a.model_name.empty() ? std::filesystem::path(a.checkpoint).lexically_normal().filename().string() : a.model_name;
  if (m.name.empty()) m.name = std::filesystem::path(a.checkpoint).lexically_normal().parent_path().filename().string();
  // One sequence must fit the KV budget as well as the positions the model knows.
  m.max_context = std::min(config.max_position_embeddings, a.engine.kv_budget_tokens);
  if (a.max_context > 0) m.max_context = std::min(m.max_context, a.max_context);
  m.vocab_size = config.vocab_size;
  m.stop_ids = config.eos_token_ids;
  m.chat_stop_ids = config.eos_token_ids;
  for (int32_t id : tpl.stop_ids())
    if (std::find(m.chat_stop_ids.begin(), m.chat_stop_ids.end(), id) == m.chat_stop_ids.end()) m.chat_stop_ids.push_back(id);
  return m;
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Stops `server` from a thread that waits for the stop signals (blocked in
// every thread, so they arrive only here) until `serving` turns false. It
// keeps calling stop(): a signal may come before listen() is running.
std::thread stop_on_signal(serve::Server& server, sigset_t set, const std::atomic<bool>& serving) {
  return std::thread([&server, set, &serving] {
    bool stopping = false;
    while (serving) {
      timespec poll{0, 100 * 1000 * 1000};
      int sig = sigtimedwait(&set, nullptr, &poll);
      if (sig > 0 && !stopping) {
        GRPO_LOG_INFO("serve", "signal " << sig << ": finishing open requests, then stopping");
        stopping = true;
      }
      if (stopping) server.stop();
    }
  });
}

void run_serve(const ServeArgs& a) {
  sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before LibTorch and HTTP threads exist: they inherit it
  configure_torch_threads(a.threads);
  auto model = policies::CausalLM::load(a.checkpoint, load_options(a));
  std::string tokenizer_path = a.tokenizer.empty() ? a.checkpoint : a.tokenizer;
  auto tokenizer = policies::Tokenizer::load(tokenizer_path);
  policies::PromptTemplate tpl(chat_template(a, tokenizer_path, tokenizer), tokenizer);
  serve::ServedModel served = served_model(a, model->config(), tpl);
  auto decode = [&tokenizer](const std::vector<int64_t>& ids) {
    return tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()), /*skip_special_tokens=*/true);
  };
  rollout::Engine engine(model, a.engine, decode);
  serve::Batcher batcher(engine);
  serve::Server server(a.server, served, tokenizer, tpl, batcher);
  int port = server.bind();
  std::atomic<bool> serving{true};
  std::thread signal_thread = stop_on_signal(server, signals, serving);
  GRPO_LOG_INFO("serve", "chat template " << tpl.name() << ", context " << served.max_context << " tokens, "
                                          << (a.server.api_key.empty() ? "no API key" : "API key required"));
  std::cout << "grpo serve: listening on http://" << a.server.host << ":" << port << "/v1 (model " << served.name << ")" << std::endl;
  server.listen();
  serving = false;
  signal_thread.join();
}

}  // namespace

void add_serve_command(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("serve", "OpenAI-compatible HTTP server over a checkpoint (/v1/completions, /v1/chat/completions)");
  auto a = std::make_shared<ServeArgs>();
  cmd->add_option("checkpoint", a->checkpoint, "Hugging Face checkpoint directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json or its directory (default: the checkpoint)");
  cmd->add_option("--host", a->server.host, "Address to listen on (loopback by default)")->capture_default_str();
  cmd->add_option("--port", a->server.port, "TCP port (0 = any free port, printed at start)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", a->server.api_key, "Require 'Authorization: Bearer KEY'")->envname("GRPO_API_KEY");
  cmd->add_option("--model-name", a->model_name, "Model id clients pass as \"model\" (default: the checkpoint folder's name)");
  auto* tpl = cmd->add_option("--template", a->template_name, "Chat template: auto (the checkpoint's), chatml, deepseek or r1_zero")
                  ->capture_default_str()
                  ->check(CLI::IsMember({"auto", "chatml", "deepseek", "r1_zero"}));
  cmd->add_option("--recipe", a->recipe, "Take the chat template from this recipe's template section")->check(CLI::ExistingFile)->excludes(tpl);
  cmd->add_option("--max-context", a->max_context, "Most prompt + completion tokens per sequence (default: the model's, within --kv-budget)");
  cmd->add_option("--device", a->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", a->dtype, "Weights' dtype")->capture_default_str()->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
  cmd->add_option("--max-slots", a->engine.max_slots, "Sequences decoded together")->capture_default_str();
  cmd->add_option("--kv-budget", a->engine.kv_budget_tokens, "KV-cache tokens the engine may hold")->capture_default_str();
  cmd->add_option("--http-threads", a->server.http_threads, "Requests handled at once")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->threads, "LibTorch threads (0 = available cores)")->capture_default_str();
  cmd->callback([a] { run_serve(*a); });
}

}  // namespace grpo::cli
