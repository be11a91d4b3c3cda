// torch_compat.h: the one place where LibTorch 1.13 (Debian's libtorch-dev,
// CPU only) and LibTorch 2.x (the torch wheel) differ for grpo-cpp.
#pragma once

#include <torch/version.h>

// LibTorch 2.x, from the wheel: the CUDA paths and newer APIs may be used.
#define GRPO_TORCH_2 (TORCH_VERSION_MAJOR >= 2)

// c10d with Gloo for data-parallel learners (learner/data_parallel.cpp). The
// wheel's LibTorch has it (its CMake config defines USE_C10D_GLOO) but ships no
// Gloo headers: that file sees learner/internal/gloo_decls instead. Debian's
// LibTorch 1.13 is not checked, so it trains on one rank only.
#define GRPO_HAS_C10D_GLOO GRPO_TORCH_2

namespace grpo::compat {

// "2.11.0" or "1.13.1".
inline const char* torch_version() { return TORCH_VERSION; }

}  // namespace grpo::compat
