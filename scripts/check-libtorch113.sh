#!/usr/bin/env bash
# check-libtorch113.sh [BUILD_DIR]: builds every target (grpo, all tests, all
# benchmarks) against Debian's CPU-only LibTorch 1.13 (libtorch-dev) and runs
# the whole test suite there, one test at a time. Not in CI's test command:
# the build alone takes about 25 CPU minutes (README "Building by hand").
# JOBS=N builds with N jobs (default: all cores).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-113}
if [ ! -f "/usr/lib/$(gcc -dumpmachine)/cmake/Torch/TorchConfig.cmake" ]; then
  echo "check-libtorch113.sh: Debian's LibTorch is not installed (sudo apt-get install libtorch-dev)" >&2
  exit 1
fi
mkdir -p "$build"
GRPO_LIBTORCH=/usr bash "$root/scripts/configure.sh" "$build" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
grep -m1 "grpo: LibTorch" "$build/configure.log"
ninja -C "$build" -j "${JOBS:-$(nproc)}"
cd "$build"
# One test at a time, as the result in the README was measured.
OMP_WAIT_POLICY=PASSIVE ctest --output-on-failure -j1 --timeout 600
