// serve_compare: throughput of `grpo serve`'s HTTP path with 1 client against
// N concurrent clients, side by side in one run, over a random checkpoint.
// What it shows: concurrent requests are batched through the engine (the
// batcher puts waiting requests into one decode batch), so N clients get far
// more tokens/s than one client asking N times as often.
//
//   build/bench/serve/serve_compare --preset tiny --clients 16 --requests 4 --max-tokens 32
//
// Each request: /v1/completions, a 32-token prompt of random ids, temperature
// 1, exactly --max-tokens new tokens (no EOS stop, so every run decodes the
// same number of tokens). Reported per phase: requests/s, completion tokens/s,
// p50 latency, and the batcher's mean and largest jobs per engine call.
#include <CLI/CLI.hpp>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/torch_runtime.h"
#include "policies/causal_lm.h"
#include "serve/server.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Phase {
  int clients = 1;
  double seconds = 0;
  int64_t requests = 0;
  int64_t tokens = 0;
  std::vector<double> latencies;  // seconds
  grpo::serve::BatcherStats stats;
};

// `clients` threads, each sending `requests` completions one after another.
Phase run_phase(int port, int clients, int requests, int max_tokens, int64_t vocab, grpo::serve::Batcher& batcher) {
  Phase phase;
  phase.clients = clients;
  grpo::serve::BatcherStats before = batcher.stats();
  std::mutex mutex;
  std::atomic<int64_t> failures{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", port);
      http.set_read_timeout(600, 0);
      std::mt19937 rng(c);
      for (int r = 0; r < requests; ++r) {
        std::vector<int64_t> prompt(32);
        for (auto& id : prompt) id = static_cast<int64_t>(rng() % vocab);
        json body = {{"model", "bench"}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 1.0}, {"seed", c * 1000 + r}};
        auto t0 = Clock::now();
        auto res = http.Post("/v1/completions", body.dump(), "application/json");
        double latency = std::chrono::duration<double>(Clock::now() - t0).count();
        if (!res || res->status != 200) {
          failures++;
          continue;
        }
        int64_t tokens = json::parse(res->body)["usage"]["completion_tokens"].get<int64_t>();
        std::lock_guard<std::mutex> lock(mutex);
        phase.requests++;
        phase.tokens += tokens;
        phase.latencies.push_back(latency);
      }
    });
  }
  for (auto& t : threads) t.join();
  phase.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  grpo::serve::BatcherStats after = batcher.stats();
  phase.stats = {after.batches - before.batches, after.jobs - before.jobs, after.max_batch_jobs};
  if (failures > 0) std::fprintf(stderr, "serve_compare: %lld requests failed\n", static_cast<long long>(failures.load()));
  return phase;
}

void print(const Phase& p) {
  std::vector<double> l = p.latencies;
  std::sort(l.begin(), l.end());
  double p50 = l.empty() ? 0 : l[l.size() / 2];
  std::printf("| %d | %lld | %.2f | %.1f | %.2f | %.1f | %lld |\n", p.clients, static_cast<long long>(p.requests), p.requests / p.seconds,
              p.tokens / p.seconds, p50, p.stats.batches ? double(p.stats.jobs) / double(p.stats.batches) : 0.0,
              static_cast<long long>(p.stats.max_batch_jobs));
}

}  // namespace

int main(int argc, char** argv) {
  grpo::ensure_openmp_wait_policy(argc, argv);
  CLI::App app{"grpo serve throughput: 1 client vs N concurrent clients"};
  std::string arch = "qwen2", preset = "tiny", device = "cpu";
  int clients = 16, requests = 4, max_tokens = 32, threads = 0;
  app.add_option("--arch", arch)->capture_default_str();
  app.add_option("--preset", preset)->capture_default_str();
  app.add_option("--clients", clients, "Concurrent clients of the second phase")->capture_default_str();
  app.add_option("--requests", requests, "Requests per client")->capture_default_str();
  app.add_option("--max-tokens", max_tokens)->capture_default_str();
  app.add_option("--threads", threads, "LibTorch threads (0 = all cores)")->capture_default_str();
  app.add_option("--device", device)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  grpo::configure_torch_threads(threads);

  auto config = grpo::policies::ModelConfig::preset(arch, preset);
  auto model = grpo::policies::CausalLM::create(config, /*seed=*/1);
  model->to(torch::Device(device));
  // Text needs a tokenizer for decode; any byte-level BPE does (the ids stay below the tiny vocab).
  grpo::policies::Tokenizer tokenizer = grpo::policies::Tokenizer::load(std::string(GRPO_BENCH_SHARED_DIR) + "/data/tokenizers/qwen3");
  grpo::policies::TemplateSpec spec;
  spec.name = "chatml";
  grpo::policies::PromptTemplate tpl(spec, tokenizer);
  grpo::serve::ServedModel served;
  served.name = "bench";
  served.max_context = 4096;
  served.vocab_size = std::min<int64_t>(config.vocab_size, tokenizer.vocab_size());
  auto decode = [&](const std::vector<int64_t>& ids) { return tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()), true); };
  grpo::rollout::Engine engine(model, {}, decode);
  grpo::serve::Batcher batcher(engine);
  grpo::serve::ServerOptions options;
  options.port = 0;
  grpo::serve::Server server(options, served, tokenizer, tpl, batcher);
  int port = server.bind();
  std::thread listener([&] { server.listen(); });
  httplib::Client probe("127.0.0.1", port);
  while (!probe.Get("/v1/models")) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  std::printf("serve_compare: %s %s on %s, %d LibTorch threads, %d new tokens per request, %d requests per client\n\n", arch.c_str(),
              preset.c_str(), device.c_str(), torch::get_num_threads(), max_tokens, requests);
  std::printf("| clients | requests | requests/s | tokens/s | p50 latency s | jobs per engine call | largest |\n|---|---|---|---|---|---|---|\n");
  run_phase(port, 1, 1, max_tokens, served.vocab_size, batcher);  // warm-up
  Phase one = run_phase(port, 1, requests * 2, max_tokens, served.vocab_size, batcher);
  Phase many = run_phase(port, clients, requests, max_tokens, served.vocab_size, batcher);
  print(one);
  print(many);
  std::printf("\ntokens/s ratio (%d clients / 1 client): %.2f\n", clients, (many.tokens / many.seconds) / (one.tokens / one.seconds));
  server.stop();
  listener.join();
  return 0;
}
