#include "core/torch_runtime.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>

#include <torch/torch.h>

#include "core/thread_pool.h"
#include "core/torch_compat.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace grpo {

void ensure_openmp_wait_policy(int argc, char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  setenv("GOMP_SPINCOUNT", "300000", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with the default policy.
}

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);               // large blocks come from the heap, not from fresh mappings
  mallopt(M_TRIM_THRESHOLD, INT_MAX);  // and the freed top of the heap is kept, not trimmed
#endif
}

int configure_torch_threads(int threads) {
  int n = threads > 0 ? threads : available_cores();
  at::set_num_threads(n);
  return at::get_num_threads();
}

std::string torch_runtime_summary() {
  std::string blas = at::hasMKL() ? "MKL" : "non-MKL BLAS";
  bool cuda = torch::cuda::is_available();
  return std::string("LibTorch ") + compat::torch_version() + ", " + blas + ", " +
         std::to_string(at::get_num_threads()) + " intra-op threads, CUDA " +
         (cuda ? "available (" + std::to_string(torch::cuda::device_count()) + " devices)" : "not available");
}

}  // namespace grpo
