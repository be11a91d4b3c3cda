#!/usr/bin/env bash
# configure.sh [BUILD_DIR] [cmake args...]: configures the CMake build against
# the torch wheel's LibTorch in .venv (run scripts/setup.sh first), or, with
# GRPO_LIBTORCH=PREFIX, against the LibTorch installed under PREFIX with the
# CUDA paths off (GRPO_LIBTORCH=/usr: Debian's libtorch-dev 1.13,
# scripts/check-libtorch113.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
shift || true
# Both the CMake config folder and the wheel's root: TorchConfig looks up
# libtorch.so and libc10.so under <prefix>/lib, and without the root first it
# would take Debian's libtorch-dev 1.13 copies from /usr/lib.
if [ -n "${GRPO_LIBTORCH:-}" ]; then
  torch_prefix=$GRPO_LIBTORCH
else
  torch_prefix=$("$root/.venv/bin/python" -c 'import os, torch; print(torch.utils.cmake_prefix_path + ";" + os.path.dirname(torch.__file__))')
fi
# clang++ when installed (scripts/setup.sh installs it), unless CXX names a
# compiler: with the LibTorch PCH it compiles the project in about half the
# CPU time of g++ (README "Building by hand"). An existing build folder made
# with another compiler is configured afresh (CMake resets its cache).
compiler_args=()
if [ -z "${CXX:-}" ] && command -v clang++ > /dev/null; then
  compiler_args+=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
fi
cuda_args=()
if [ -n "${GRPO_LIBTORCH:-}" ]; then
  cuda_args+=(-DGRPO_CUDA=OFF)
elif [ -x /usr/local/cuda/bin/nvcc ]; then
  # The wheel's LibTorch has CUDA; its CMake config needs the CUDA toolkit.
  cuda_args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DCUDAToolkit_ROOT=/usr/local/cuda)
fi
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$torch_prefix" \
  -DGRPO_PYTHON="$root/.venv/bin/python" \
  "${compiler_args[@]}" "${cuda_args[@]}" "$@"
