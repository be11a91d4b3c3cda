#!/usr/bin/env bash
# configure.sh [BUILD_DIR] [cmake args...]: configures the CMake build against
# the torch wheel's LibTorch in .venv (run scripts/setup.sh first).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
shift || true
# Both the CMake config folder and the wheel's root: TorchConfig looks up
# libtorch.so and libc10.so under <prefix>/lib, and without the root first it
# would take Debian's libtorch-dev 1.13 copies from /usr/lib.
torch_prefix=$("$root/.venv/bin/python" -c 'import os, torch; print(torch.utils.cmake_prefix_path + ";" + os.path.dirname(torch.__file__))')
# clang++ when installed (scripts/setup.sh installs it), unless CXX names a
# compiler: with the LibTorch PCH it compiles the project in about half the
# CPU time of g++ (README "Building by hand"). An existing build folder made
# with another compiler is configured afresh (CMake resets its cache).
compiler_args=()
if [ -z "${CXX:-}" ] && command -v clang++ > /dev/null; then
  compiler_args+=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
fi
cuda_args=()
# The wheel's LibTorch has CUDA; its CMake config needs the CUDA toolkit.
if [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DCUDAToolkit_ROOT=/usr/local/cuda)
fi
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$torch_prefix" \
  -DGRPO_PYTHON="$root/.venv/bin/python" \
  "${compiler_args[@]}" "${cuda_args[@]}" "$@"
