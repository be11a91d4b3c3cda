// torch_compat.h: the one place where LibTorch 1.13 (Debian's libtorch-dev,
// CPU only) and LibTorch 2.x (the torch wheel) differ for grpo-cpp.
#pragma once

#include <torch/version.h>

// LibTorch 2.x, from the wheel: the CUDA paths and newer APIs may be used.
#define GRPO_TORCH_2 (TORCH_VERSION_MAJOR >= 2)

namespace grpo::compat {

// "2.11.0" or "1.13.1".
inline const char* torch_version() { return TORCH_VERSION; }

}  // namespace grpo::compat
