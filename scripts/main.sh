#!/usr/bin/env bash
# main.sh: the README's main job. Sets up the machine, builds grpo and runs
# the default recipe end to end on CPU (examples/tiny-zero/run.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
build=${GRPO_BUILD_DIR:-$root/build}
scripts/configure.sh "$build" > "$root/.configure.log" 2>&1 || { cat "$root/.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target grpo
examples/tiny-zero/run.sh "$build/cli/grpo" "$@"
