#!/usr/bin/env bash
# bench/omp_wait_policy.sh [BUILD_DIR] [ROUNDS]: wall time of real grpo commands
# under each OpenMP wait policy, alternated round by round so that machine
# noise falls on all of them alike. Decides what `grpo` sets when the user has
# not (core/torch_runtime.h):
#   generate   one process: 16 completions x 128 tokens from a tiny MoE policy
#   train-w0   grpo train, rollout in the learner process (rollout.workers=0)
#   train-w1   grpo train with one rollout-worker process beside the learner
# Policies: ACTIVE and PASSIVE as named; BOUNDED is ACTIVE with
# GOMP_SPINCOUNT=300000, libgomp's own default (spin briefly, then sleep).
# Prints the median seconds per command and policy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
rounds=${2:-3}
grpo=$build/cli/grpo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=PASSIVE  # for the setup commands
"$grpo" data generate countdown --size 500 --seed 0 | sed -n 's/.*"question":"\([^"]*\)".*/\1/p' > "$work/corpus.txt"
"$grpo" tokenizer train "$work/corpus.txt" --vocab 512 --out "$work/tok" > /dev/null
"$grpo" model init --arch deepseek_v3 --preset tiny --out "$work/model" > /dev/null

run_case() {  # name policy
  local start end env=(OMP_WAIT_POLICY="$2")
  [ "$2" = BOUNDED ] && env=(OMP_WAIT_POLICY=ACTIVE GOMP_SPINCOUNT=300000)
  start=$(date +%s.%N)
  case $1 in
    generate)
      env "${env[@]}" "$grpo" generate "$work/model" --tokenizer "$work/tok" --prompt "Using the numbers" \
        --n 16 --max-new-tokens 128 --no-eos-stop --seed 1 > /dev/null ;;
    train-w*)
      env "${env[@]}" "$grpo" train "$root/recipes/tiny-zero.json" --set model.path="$work/model" \
        --set tokenizer.path="$work/tok" --set run.dir="$work/runs" --set run.name="$1-$2" \
        --set run.steps=3 --set data.eval_size=16 --set rollout.max_new_tokens=64 \
        --set rollout.workers="${1#train-w}" > /dev/null 2>&1 ;;
  esac
  end=$(date +%s.%N)
  echo "$1 $2 $(echo "$end - $start" | bc)" >> "$work/times"
  rm -rf "$work/runs"
}

for ((r = 0; r < rounds; r++)); do
  for c in generate train-w0 train-w1; do
    for p in ACTIVE PASSIVE BOUNDED; do run_case "$c" "$p"; done
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)   rounds: $rounds"
sort "$work/times" | awk '{k = $1 " " $2; v[k] = v[k] " " $3} END {for (k in v) print k, v[k]}' | sort |
  while read -r name policy times; do
    median=$(echo "$times" | tr ' ' '\n' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    printf "%-9s %-8s median %6.2f s   (%s)\n" "$name" "$policy" "$median" "$times"
  done
