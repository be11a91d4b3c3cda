#!/usr/bin/env bash
# examples/tiny-zero/run.sh [GRPO_BINARY] [--set key=value ...]: R1-Zero from
# nothing on a CPU, small-number addition ("What is 3 + 4?"):
#   1. a synthetic corpus (examples/tiny-zero/make_corpus.py): the addition
#      table in prose and equations, unrelated sentences wrapped in
#      <think>/<answer> tags, small talk; no question of the task and no
#      worked solution in the answer format
#   2. a byte-level BPE tokenizer trained on it (`grpo tokenizer train`)
#   3. a tiny DeepSeek-style MoE base model (MLA + DeepSeekMoE) pretrained on
#      it with `grpo sft` (recipes/sft.json)
#   4. R1-Zero style GRPO from that base model with rule-based rewards only
#      (math answer + format), evaluated greedily on held-out problems
#      (recipes/tiny-zero.json); the --set options go to this step
#   5. the numbers (examples/tiny-zero/summary.py), the HTML report and
#      TensorBoard files
# Steps 1-3 are cached in runs/tiny-zero-assets/ (delete it to rebuild them);
# the GRPO run goes to runs/tiny-zero/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
grpo=${1:-$root/build/cli/grpo}
cd "$root"
start=$(date +%s)
assets=runs/tiny-zero-assets
mkdir -p "$assets"

if [ ! -f "$assets/base/config.json" ]; then
  # Operands 0..9 (the task's max_operand), 30000 documents, seed 0.
  python3 examples/tiny-zero/make_corpus.py 9 30000 0 > "$assets/corpus.txt"
  "$grpo" tokenizer train "$assets/corpus.txt" --vocab 512 --out "$assets/tokenizer"
  rm -rf runs/tiny-zero-base
  "$grpo" sft recipes/sft.json --set run.dir=runs --set run.name=tiny-zero-base
fi
echo "base model ready after $(( $(date +%s) - start )) s"

rm -rf runs/tiny-zero
"$grpo" train recipes/tiny-zero.json --set run.dir=runs "${@:2}"
python3 examples/tiny-zero/summary.py runs/tiny-zero
echo "whole example: $(( $(date +%s) - start )) s"
echo "report: runs/tiny-zero/report.html   tensorboard --logdir runs"
