#!/usr/bin/env bash
# gpu-check.sh [BUILD_DIR]: builds grpo-cpp against the CUDA LibTorch of a
# python's torch, runs the tests with a CUDA device visible (the GPU tests skip
# only where there is none; the NCCL one below two GPUs), runs the GPU
# benchmarks, and writes what it found
# to $OUT (default BUILD_DIR/gpu-check), at most 8 files:
#   summary.json   device, torch, build and test outcome, the figures
#   tests.json     every test: suite, name, status (run/skipped), failures
#   figures.json   gpu_figures (ours) + hf_generate.py (transformers) side by side
#   build.log, tests.log, bench.log (tails), nvidia-smi.txt
# Environment:
#   GRPO_PYTHON        python with torch (CUDA) and transformers (default: python3)
#   JOBS               build jobs (default: all cores)
#   GPU_CHECK_TESTS    test programs to build and run (default below)
#   GPU_CHECK_BENCH=0  skip the benchmarks
# Dependencies other than torch come from CMAKE_PREFIX_PATH / PKG_CONFIG_PATH
# (on the lent GPU machine: `source .devdeps/env.sh` first; docs/gpu.md).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-gpu}
out=${OUT:-$build/gpu-check}
python=${GRPO_PYTHON:-$(command -v python3)}
jobs=${JOBS:-$(nproc)}
tests=${GPU_CHECK_TESTS:-core_torch_tests policies_tests rollout_tests learner_tests train_tests}
mkdir -p "$out"
fail() { echo "gpu-check: $*" >&2; echo "{\"ok\": false, \"error\": \"$*\"}" > "$out/summary.json"; exit 1; }

nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || fail "nvidia-smi failed: no NVIDIA driver here"
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' ||
  fail "$python's torch sees no CUDA device (torch.cuda.is_available() is False)"
# Both the CMake config folder and the wheel's root (see scripts/configure.sh).
torch_prefix=$("$python" -c 'import os, torch; print(torch.utils.cmake_prefix_path + ";" + os.path.dirname(torch.__file__))')
nvcc=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}

echo "gpu-check: configure ($build)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRPO_CUDA=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix${CMAKE_PREFIX_PATH:+;$CMAKE_PREFIX_PATH}" \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DGRPO_PYTHON="$python" > "$out/build.log" 2>&1 ||
  { tail -50 "$out/build.log"; fail "configure failed (build.log)"; }
grep -q "CUDA paths ON" "$out/build.log" || fail "CMake did not enable the CUDA paths (build.log)"
# NCCL data parallelism needs nccl.h (GrpoDependencies.cmake); recorded, not required.
nccl=0
grep -q "NCCL data parallel ON" "$out/build.log" && nccl=1

targets="$tests grpo"  # the worker tests start `grpo rollout-worker` processes
[ "${GPU_CHECK_BENCH:-1}" = 1 ] && targets="$targets gpu_figures"
echo "gpu-check: build $targets with $jobs jobs"
start=$(date +%s)
ninja -C "$build" -j "$jobs" $targets >> "$out/build.log" 2>&1 || { tail -50 "$out/build.log"; fail "build failed (build.log)"; }
build_s=$(( $(date +%s) - start ))
tail -c 200000 "$out/build.log" > "$out/build.log.tail" && mv "$out/build.log.tail" "$out/build.log"

echo "gpu-check: tests"
tests_ok=1
: > "$out/tests.log"
mkdir -p "$build/gpu-check-tests"
for t in $tests; do
  bin=$(find "$build/tests" -type f -name "$t" -perm -u+x | head -1)
  [ -n "$bin" ] || fail "test program $t not built"
  # OMP_WAIT_POLICY as ctest sets it (cmake/GrpoTargets.cmake).
  OMP_WAIT_POLICY=PASSIVE "$bin" --gtest_output="json:$build/gpu-check-tests/$t.json" >> "$out/tests.log" 2>&1 || tests_ok=0
done
"$python" - "$build/gpu-check-tests" "$out/tests.json" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
rows = []
for f in sorted(os.listdir(src)):
    report = json.load(open(os.path.join(src, f)))
    for suite in report.get("testsuites", []):
        for t in suite.get("testsuite", []):
            rows.append({"program": f[:-5], "suite": suite["name"], "name": t["name"],
                         "status": "skipped" if t.get("result") == "SKIPPED" else t.get("status", "RUN").lower(),
                         "failures": [x.get("failure", "") for x in t.get("failures", [])]})
json.dump(rows, open(dst, "w"), indent=1)
PY
tail -c 200000 "$out/tests.log" > "$out/tests.log.tail" && mv "$out/tests.log.tail" "$out/tests.log"

figures=null
if [ "${GPU_CHECK_BENCH:-1}" = 1 ]; then
  echo "gpu-check: benchmarks"
  work="$build/gpu-figures-models"
  mkdir -p "$work"
  : > "$out/bench.log"
  ours=$("$build/bench/gpu/gpu_figures" --work "$work" --device cuda --dtype bfloat16 2>> "$out/bench.log") ||
    { tail -30 "$out/bench.log"; fail "gpu_figures failed (bench.log)"; }
  hf=()
  for m in qwen2_0.5b moe_small; do
    hf+=("$("$python" "$root/bench/gpu/hf_generate.py" --checkpoint "$work/$m" --device cuda --dtype bfloat16 2>> "$out/bench.log" ||
           echo "{\"checkpoint\": \"$work/$m\", \"error\": \"transformers failed, see bench.log\"}")")
  done
  "$python" - "$out/figures.json" "$ours" "${hf[@]}" <<'PY'
import json, sys
dst, ours, hfs = sys.argv[1], json.loads(sys.argv[2]), [json.loads(x) for x in sys.argv[3:]]
by_dir = {h["checkpoint"]: h for h in hfs}
for m in ours["models"]:
    h = by_dir.get(m["checkpoint"], {})
    m["hf_generate"] = h
    for d in m["decode"]:
        match = [x for x in h.get("decode", []) if x["batch"] == d["batch"] and x["new"] == d["new"]]
        if match and "tok_per_s" in d:  # (a decode mode that could not run has an "error" instead)
            d["hf_tok_per_s"] = match[0]["tok_per_s"]
            d["ratio_ours_over_hf"] = d["tok_per_s"] / match[0]["tok_per_s"]
json.dump(ours, open(dst, "w"), indent=1)
PY
  figures=$(cat "$out/figures.json")
fi

"$python" - "$out/summary.json" "$out/tests.json" "$build_s" "$tests_ok" "$figures" "$nccl" <<'PY'
import json, subprocess, sys
import torch
dst, tests_path, build_s, tests_ok, figures, nccl = sys.argv[1:7]
tests = json.load(open(tests_path))
count = lambda s: sum(1 for t in tests if t["status"] == s and not t["failures"])
failed = [t["suite"] + "." + t["name"] for t in tests if t["failures"]]
json.dump({"ok": tests_ok == "1" and not failed, "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "cuda": torch.version.cuda, "gpus": torch.cuda.device_count(), "nccl_data_parallel": nccl == "1",
           "build_seconds": int(build_s), "tests_passed": count("run"),
           "tests_skipped": [t["suite"] + "." + t["name"] for t in tests if t["status"] == "skipped"],
           "tests_failed": failed, "figures": json.loads(figures)}, open(dst, "w"), indent=1)
PY
echo "gpu-check: done, results in $out"
"$python" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(json.dumps({k: s[k] for k in ("ok","gpu","tests_passed","tests_failed")}))' "$out/summary.json"
[ "$tests_ok" = 1 ]
