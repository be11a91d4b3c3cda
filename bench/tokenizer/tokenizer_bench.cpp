// tokenizer_bench: encode throughput of grpo's Tokenizer on a corpus file, and
// the memory a loaded tokenizer holds. compare_hf.py runs it beside Hugging
// Face `tokenizers` on the same corpus and prints the ratios.
//   BM_Tokenizer_Load          RSS delta of Tokenizer::load (after malloc_trim) in MB,
//                              and the bytes its tables hold
//   BM_Encode_SingleThread     MB/s encoding the corpus document by document, one thread
//   BM_Encode_Batch/T          MB/s of encode_batch over all documents on T threads
// Environment: GRPO_BENCH_TOKENIZER (tokenizer.json or dir), GRPO_BENCH_CORPUS
// (JSON-lines file of strings, one document each).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "policies/tokenizer.h"

namespace {

using grpo::policies::Tokenizer;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    std::fprintf(stderr, "tokenizer_bench: set %s\n", name);
    std::exit(2);
  }
  return v;
}

long rss_kb() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * 4;  // 4 KiB pages
}

struct Fixture {
  std::vector<std::string> docs;
  size_t bytes = 0;
  std::unique_ptr<Tokenizer> tok;
  double rss_delta_mb = 0;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture f;
    std::ifstream in(env("GRPO_BENCH_CORPUS"));
    std::string line;
    while (std::getline(in, line)) {
      f.docs.push_back(nlohmann::json::parse(line).get<std::string>());
      f.bytes += f.docs.back().size();
    }
    malloc_trim(0);
    const long before = rss_kb();
    f.tok = std::make_unique<Tokenizer>(Tokenizer::load(env("GRPO_BENCH_TOKENIZER")));
    malloc_trim(0);  // return the JSON parser's freed memory, as it is not held
    f.rss_delta_mb = (rss_kb() - before) / 1024.0;
    return f;
  }();
  return f;
}

void BM_Tokenizer_Load(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.tok.get());
  state.counters["rss_delta_MB"] = f.rss_delta_mb;
  state.counters["tables_MB"] = f.tok->memory_bytes() / 1048576.0;
  state.counters["vocab"] = f.tok->vocab_size();
}
BENCHMARK(BM_Tokenizer_Load)->Iterations(1);

void BM_Encode_SingleThread(benchmark::State& state) {
  Fixture& f = fixture();
  size_t tokens = 0;
  for (auto _ : state)
    for (const std::string& d : f.docs) tokens += f.tok->encode(d).size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Encode_SingleThread)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

void BM_Encode_Batch(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.tok->encode_batch(f.docs, static_cast<size_t>(state.range(0))));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.bytes));
}
BENCHMARK(BM_Encode_Batch)->Arg(2)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
