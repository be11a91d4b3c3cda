// math_reward_bench.cpp: throughput of the math reward on one core.
//
//   BM_MathReward_Grade   grades realistic completions (~500 tokens of
//                         reasoning, then a boxed answer; half right, half
//                         wrong; fractions, roots, sets, expressions) against
//                         their gold answers, one thread; counter items_per_second
//                         = completions graded per second per core.
//
// The completions come from GRPO_BENCH_COMPLETIONS (JSON lines with
// "completion" and "gold", written by compare_math_verify.py so that
// Math-Verify grades the very same texts in the same run), else from the
// built-in generator below (the same recipe as the script's).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "rewards/math_reward.h"

namespace {

struct Item {
  std::string completion, gold;
};

std::vector<Item> generated() {
  const char* golds[] = {"\\frac{3}{4}", "2\\sqrt{3}", "12", "-7", "\\{1, 2\\}", "x^2+2x+1", "0.625", "(1, -2)", "\\pi/6", "144"};
  const char* rights[] = {"\\dfrac{6}{8}", "\\sqrt{12}", "12", "-7", "\\{2, 1\\}", "(x+1)^2", "\\frac{5}{8}", "(1,-2)", "\\frac{\\pi}{6}", "144"};
  const char* wrongs[] = {"\\frac{2}{3}", "3\\sqrt{2}", "13", "7", "\\{1, 3\\}", "(x-1)^2", "0.6", "(-2, 1)", "\\frac{\\pi}{3}", "121"};
  std::mt19937 rng(7);
  std::vector<Item> items;
  for (int i = 0; i < 200; ++i) {
    std::string text = "Let me think step by step. ";
    // ~500 tokens of reasoning: sentences with numbers and inline LaTeX.
    for (int s = 0; s < 30; ++s)
      text += "We have $" + std::to_string(rng() % 100) + " \\times " + std::to_string(rng() % 50) + " = " +
              std::to_string(rng() % 5000) + "$, so the next term follows from the previous one. ";
    int k = i % 10;
    text += "Therefore the final answer is $\\boxed{" + std::string(i % 2 ? rights[k] : wrongs[k]) + "}$.";
    items.push_back({text, golds[k]});
  }
  return items;
}

std::vector<Item> load() {
  const char* path = std::getenv("GRPO_BENCH_COMPLETIONS");
  if (!path) return generated();
  std::vector<Item> items;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    items.push_back({j["completion"], j["gold"]});
  }
  return items;
}

void BM_MathReward_Grade(benchmark::State& state) {
  static const std::vector<Item> items = load();
  size_t i = 0, correct = 0;
  for (auto _ : state) {
    const Item& it = items[i++ % items.size()];
    bool ok = grpo::rewards::grade_math(it.completion, it.gold);
    correct += ok;
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["fraction_correct"] = static_cast<double>(correct) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_MathReward_Grade)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
