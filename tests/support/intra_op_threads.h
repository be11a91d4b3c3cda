// intra_op_threads.h: LibTorch's intra-op thread count set for one scope and
// restored after it (for the LibTorch tests; header-only, so the support
// library itself needs no LibTorch).
#pragma once

#include <ATen/Parallel.h>

namespace grpo::testing {

// Sets at::set_num_threads(threads) now and puts the previous count back on destruction.
class IntraOpThreads {
 public:
  explicit IntraOpThreads(int threads) : saved_(at::get_num_threads()) { at::set_num_threads(threads); }
  ~IntraOpThreads() { at::set_num_threads(saved_); }
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int saved_;
};

}  // namespace grpo::testing
