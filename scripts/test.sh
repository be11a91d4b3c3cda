#!/usr/bin/env bash
# test.sh: sets up the machine (scripts/setup.sh), builds everything and runs
# the whole test suite with CTest. The README's test command; CI runs it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
build=${GRPO_BUILD_DIR:-$root/build}
scripts/configure.sh "$build" > "$root/.configure.log" 2>&1 || { cat "$root/.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 900
