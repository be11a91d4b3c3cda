#!/usr/bin/env python3
"""Side by side: our GRPO training step (learner_bench BM_GrpoStep) vs the
training part of a TRL GRPO step (trl_train_step.py, PyTorch eager), same
model shape (qwen2 preset, fp32, random init), same batch (8 completions of
64 prompt + 192 completion tokens, dapo loss, mu = 1, AdamW, grad clipping).

Usage: .venv/bin/python bench/learner/trl_compare.py [--build build] [--preset base50m] [--rounds 2]
           [--trl-steps 3] [--threads N]

For every round, in one invocation and alternating which of ours / TRL goes first:
  peak   learner_bench BM_Matmul_Fp32/1024 (this machine's fp32 matmul peak,
         re-measured every round because the machine is shared)
  ours   learner_bench BM_GrpoStep/<preset> in its own process
  ckpt   learner_bench BM_GrpoStepCheckpointed/<preset> in its own process
         (learner.gradient_checkpointing: layers recomputed in backward)
  TRL    trl_train_step.py <preset> in its own process
Tokens per CPU-second divide the same tokens by each process's own CPU time
(all its threads: Google Benchmark's process CPU time, Python's process_time):
on a machine shared with other work, wall-clock tokens/s of processes run one
after another also measure how much of a core each got; CPU time much less so.
Every child runs on the same cores with the same thread count and OpenMP
settings: OMP_WAIT_POLICY=ACTIVE with GOMP_SPINCOUNT=300000 (what `grpo train`
runs with) unless OMP_WAIT_POLICY is set, then the environment as given. On a
machine shared with other work, OMP_WAIT_POLICY=PASSIVE and --threads 1 keep
spinning threads from starving each other (perf: 62% of a 2-thread step in
libgomp's spin loop at load 12). Peak RSS is each process's own maximum
(weights, gradients, AdamW state, the step's activations and the runtime).
MFU = our model GFLOP/s (6 x active parameters x tokens/s) / the round's peak.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PRESET_ARG = {"small": 0, "base50m": 1}  # learner_bench's preset numbers


def google_bench(cmd, name_filter, env):
    """Counters of the one Google Benchmark case of `cmd` matching name_filter."""
    out = subprocess.run(cmd + ["--benchmark_format=json", f"--benchmark_filter={name_filter}"],
                         env=env, capture_output=True, text=True, check=True)
    benches = json.loads(out.stdout)["benchmarks"]
    if len(benches) != 1:
        raise SystemExit(f"{' '.join(cmd)} --benchmark_filter={name_filter}: expected one benchmark, got {len(benches)}")
    return benches[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--preset", choices=sorted(PRESET_ARG), default="base50m")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--trl-steps", type=int, default=3, help="timed TRL steps per round (after one warm-up step)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--stock-malloc", action="store_true",
                    help="leave glibc's malloc defaults to the TRL process (default: it keeps freed memory "
                         "in the heap, as every grpo process does through mallopt)")
    args = ap.parse_args()

    bench = os.path.join(args.build, "bench/learner/learner_bench")
    if not os.access(bench, os.X_OK):
        raise SystemExit(f"{bench} not found: ninja -C {args.build} learner_bench")
    cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:args.threads])
    taskset = ["taskset", "-c", cores]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if "OMP_WAIT_POLICY" not in env:  # what `grpo train` runs with; a given policy is used as is
        env.update(OMP_WAIT_POLICY="ACTIVE", GOMP_SPINCOUNT="300000")
    if not args.stock_malloc:  # grpo::keep_freed_memory_for_reuse's mallopt, as glibc tunables for Python
        env.update(MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_=str(2**31 - 1))
    arg = PRESET_ARG[args.preset]

    print(f"preset {args.preset}; {args.threads} threads each (cores {cores}); OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']} "
          f"GOMP_SPINCOUNT={env.get('GOMP_SPINCOUNT', '-')}; malloc {'stock' if args.stock_malloc else 'no mmap, no trim'}; "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
          flush=True)
    print(f"{'round':>5} {'ours tok/s':>10} {'TRL tok/s':>9} {'ratio':>6} {'ours tok/cpu-s':>14} {'TRL tok/cpu-s':>13} "
          f"{'cpu ratio':>9} {'GFLOP/s':>8} {'peak GF/s':>9} {'MFU %':>6} "
          f"{'RSS MB':>7} {'ckpt tok/s':>10} {'ckpt RSS':>8} {'TRL RSS':>7} {'BTV MB':>7} {'load':>5}", flush=True)
    for r in range(args.rounds):
        peak = google_bench(taskset + [bench], "BM_Matmul_Fp32/1024", env)["GFLOP/s"]

        def ours():
            return google_bench(taskset + [bench], f"BM_GrpoStep/{arg}/", env)

        def ckpt():
            return google_bench(taskset + [bench], f"BM_GrpoStepCheckpointed/{arg}/", env)

        def trl():
            cmd = taskset + [sys.executable, os.path.join(HERE, "trl_train_step.py"), args.preset, str(args.trl_steps)]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            return json.loads(out.stdout.splitlines()[-1])

        if r % 2 == 0:
            o, t, c = ours(), trl(), ckpt()
        else:
            c, t, o = ckpt(), trl(), ours()
        tok, gflops = o["tokens/s"], o["model_GFLOP/s"]
        tok_cpu = tok * o["real_time"] / o["cpu_time"]  # the same tokens over the process's CPU time
        print(f"{r:5d} {tok:10.1f} {t['tokens_per_s']:9.1f} {tok / t['tokens_per_s']:6.2f} {tok_cpu:14.1f} "
              f"{t['tokens_per_cpu_s']:13.1f} {tok_cpu / t['tokens_per_cpu_s']:9.2f} {gflops:8.1f} {peak:9.1f} "
              f"{100 * gflops / peak:6.1f} {o['peak_rss_MB']:7.0f} {c['tokens/s']:10.1f} {c['peak_rss_MB']:8.0f} "
              f"{t['peak_rss_MB']:7.0f} {o['full_BTV_logsoftmax_MB']:7.0f} {os.getloadavg()[0]:5.1f}", flush=True)


if __name__ == "__main__":
    main()
