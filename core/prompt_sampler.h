// prompt_sampler.h: which dataset rows each step uses, epoch after epoch, as a
// pure function of (seed, cursor) so that a resumed run draws exactly the rows
// an uninterrupted one would have.
//
//   PromptSampler s(dataset.size(), seed, /*shuffle=*/true);
//   std::vector<size_t> rows = s.next(4);
//   checkpoint["data_cursor"] = s.cursor();   // {epoch, position}
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace grpo {

// Where a sampler stands: epoch and position in that epoch's order.
struct DataCursor {
  int64_t epoch = 0;
  int64_t position = 0;
  bool operator==(const DataCursor& o) const { return epoch == o.epoch && position == o.position; }
};

class PromptSampler {
 public:
  // REQUIRES: rows > 0.
  PromptSampler(size_t rows, uint64_t seed, bool shuffle, DataCursor start = {});
  // The next n row indices; an epoch boundary starts a freshly shuffled order.
  std::vector<size_t> next(size_t n);
  DataCursor cursor() const { return cursor_; }

 private:
  void build_order();
  size_t rows_;
  uint64_t seed_;
  bool shuffle_;
  DataCursor cursor_;
  std::vector<size_t> order_;  // order of cursor_.epoch
};

}  // namespace grpo
