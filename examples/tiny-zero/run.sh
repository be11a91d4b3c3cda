#!/usr/bin/env bash
# examples/tiny-zero/run.sh [GRPO_BINARY]: an R1-Zero style run from nothing,
# on a CPU, with the countdown task:
#   1. a corpus of countdown problems -> a small byte-level BPE tokenizer
#   2. a randomly initialised DeepSeek-style MoE policy (MLA + DeepSeekMoE)
#   3. GRPO with the countdown and format rewards (recipes/tiny-zero.json)
#   4. the run's HTML report and TensorBoard files
# Everything lands in runs/tiny-zero-assets/ and runs/tiny-zero/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
grpo=${1:-$root/build/cli/grpo}
cd "$root"
assets=runs/tiny-zero-assets
mkdir -p "$assets"

if [ ! -f "$assets/tokenizer/tokenizer.json" ]; then
  # Questions only: the tokenizer sees the task's words, never a worked answer.
  "$grpo" data generate countdown --size 4000 --seed 0 --param max_number=20 \
    | sed -n 's/.*"question":"\([^"]*\)".*/\1/p' > "$assets/corpus.txt"
  "$grpo" tokenizer train "$assets/corpus.txt" --vocab 512 --out "$assets/tokenizer"
fi
if [ ! -f "$assets/policy/config.json" ]; then
  "$grpo" model init --arch deepseek_v3 --preset tiny --out "$assets/policy"
fi

rm -rf runs/tiny-zero
"$grpo" train recipes/tiny-zero.json \
  --set model.path="$assets/policy" --set tokenizer.path="$assets/tokenizer" \
  --set run.dir=runs --set run.name=tiny-zero "${@:2}"
echo "report: runs/tiny-zero/report.html   tensorboard --logdir runs"
