#include "core/prompt_sampler.h"

#include <numeric>

#include "core/error.h"
#include "core/seeded_random.h"

namespace grpo {

PromptSampler::PromptSampler(size_t rows, uint64_t seed, bool shuffle, DataCursor start)
    : rows_(rows), seed_(seed), shuffle_(shuffle), cursor_(start) {
  if (rows == 0) throw Error("PromptSampler: the dataset has no rows");
  if (start.position < 0 || static_cast<size_t>(start.position) > rows)
    throw Error("PromptSampler: data cursor position " + std::to_string(start.position) + " is outside a dataset of " +
                std::to_string(rows) + " rows (was the checkpoint made with another dataset?)");
  build_order();
}

void PromptSampler::build_order() {
  order_.resize(rows_);
  std::iota(order_.begin(), order_.end(), size_t{0});
  if (shuffle_) {
    // One stream per epoch: the order of epoch e never depends on earlier draws.
    SeededRandom rng(mix_seed(seed_, 1000 + static_cast<uint64_t>(cursor_.epoch)));
    rng.shuffle(order_);
  }
}

std::vector<size_t> PromptSampler::next(size_t n) {
  std::vector<size_t> out;
  out.reserve(n);
  while (out.size() < n) {
    if (static_cast<size_t>(cursor_.position) == rows_) {
      cursor_.epoch += 1;
      cursor_.position = 0;
      build_order();
    }
    out.push_back(order_[static_cast<size_t>(cursor_.position++)]);
  }
  return out;
}

}  // namespace grpo
