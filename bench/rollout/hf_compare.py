#!/usr/bin/env python3
"""Side by side: grpo's rollout engine (rollout_bench) vs Hugging Face
transformers `generate` (KV cache), same checkpoint, batch, prompt and lengths.

Usage: .venv/bin/python bench/rollout/hf_compare.py [--build build] [--model dense|moe]
           [--checkpoint DIR] [--batch 64 256] [--new 256 512] [--rounds 1] [--threads N] [--no-hf] [--aten]
           [--base OTHER_BUILD]

The checkpoint is the one rollout_bench creates: --model dense (default) the
~50M dense qwen2 (preset base50m, HF Qwen2ForCausalLM), --model moe the tiny
MoE deepseek_v3 (preset tiny, HF DeepseekV3ForCausalLM); it is saved to DIR on
the first run (GRPO_BENCH_SAVE_DIR) and both sides load it from there. For every (batch, new tokens) and round, in one
invocation and alternating which goes first:
  peak   core_bench BM_Matmul_Fp32/1024 (this machine's matmul peak, measured
         in the same round because the machine is shared)
  ours   rollout_bench BM_Engine_Decode/model:M/batch:B/new:N/onednn:1 in its own process
  aten   (--aten only) the same with onednn:0 (ATen's linear throughout: the
         engine before oneDNN products), in its own process
  base   (--base only) rollout_bench of another build (e.g. main's) with
         onednn:1, in its own process: before/after in one invocation
  HF     this script with --hf-child in its own process (--no-hf: skipped, for
         the long runs where only our speed against the peak is wanted)
Each side samples at temperature 1 with no filter, from one 16-token prompt
repeated `batch` times, exactly `new` tokens per sequence (HF min_new_tokens;
ours has no stop token), on the same number of threads. tok/s counts the
generated tokens over the whole call (prefill and sampling included).
GFLOP/s = 2 x parameters x tok/s (attention ignored, as in rollout_bench).
Peak RSS is each process's own maximum: weights + KV cache + activations +
the runtime (LibTorch / Python) itself. For ours the row also gives the RSS
after loading and the growth of the RSS during generate (rollout_bench's
after_load_MB and gen_growth_MB), which is what generation adds.
OpenMP: without OMP_WAIT_POLICY in the environment every child runs as `grpo`
does (OMP_WAIT_POLICY=ACTIVE GOMP_SPINCOUNT=300000: spin 0.3 ms, then sleep),
transformers included (it ran as fast as with PASSIVE here: 380-400 tok/s at
64 x 256 either way); a given policy applies to all children. On a machine
shared with other work, OMP_WAIT_POLICY=PASSIVE: spinning threads then wait
for descheduled partners.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

PROMPT_LEN = 16  # as rollout_bench.cpp
MODELS = {"moe": (0, "/tmp/grpo_bench_moe_tiny"), "dense": (1, "/tmp/grpo_bench_base50m")}  # rollout_bench model index, checkpoint


def hf_child(checkpoint, batch, new, threads):
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    prompt = [(i * 7919 + 13) % vocab for i in range(PROMPT_LEN)]  # same as rollout_bench.cpp
    ids = torch.tensor([prompt] * batch)
    torch.manual_seed(0)
    with torch.no_grad():
        start = time.perf_counter()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                             max_new_tokens=new, min_new_tokens=new, use_cache=True, pad_token_id=0)
        elapsed = time.perf_counter() - start
    generated = (out.shape[1] - ids.shape[1]) * batch
    print(json.dumps({"tok_per_s": generated / elapsed, "seconds": elapsed, "threads": torch.get_num_threads(),
                      "attn": model.config._attn_implementation,
                      "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


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
    ap.add_argument("--model", choices=sorted(MODELS), default="dense")
    ap.add_argument("--checkpoint", help="default: /tmp/grpo_bench_base50m (dense), /tmp/grpo_bench_moe_tiny (moe)")
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--new", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--no-hf", action="store_true", help="skip transformers (its columns print nan)")
    ap.add_argument("--aten", action="store_true", help="also run our engine with ATen's linear throughout (column aten)")
    ap.add_argument("--base", help="another build directory whose engine runs in the same rounds (column base, ratio base/HF)")
    ap.add_argument("--hf-child", nargs=3, type=str, metavar=("CHECKPOINT", "BATCH", "NEW"), help=argparse.SUPPRESS)
    ap.add_argument("--stock-malloc", action="store_true",
                    help="leave glibc's malloc defaults to the transformers process (default: it keeps freed memory "
                         "in the heap, as every grpo process does through mallopt)")
    args = ap.parse_args()
    if args.hf_child:
        hf_child(args.hf_child[0], int(args.hf_child[1]), int(args.hf_child[2]), args.threads)
        return

    model_index, default_checkpoint = MODELS[args.model]
    args.checkpoint = args.checkpoint or default_checkpoint
    rollout_bench = os.path.join(args.build, "bench/rollout/rollout_bench")
    core_bench = os.path.join(args.build, "bench/core_bench")
    base_bench = os.path.join(args.base, "bench/rollout/rollout_bench") if args.base else None
    for binary in (rollout_bench, core_bench) + ((base_bench,) if base_bench else ()):
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary} not found: ninja -C {args.build} rollout_bench core_bench")
    # Both children use exactly this many threads (rollout_bench takes its cores from the affinity mask).
    cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:args.threads])
    taskset = ["taskset", "-c", cores]
    env = dict(os.environ)
    if "OMP_WAIT_POLICY" not in env:  # what `grpo` runs with (core/torch_runtime.h); a given policy is used as is
        env.update(OMP_WAIT_POLICY="ACTIVE", GOMP_SPINCOUNT="300000")
    if not args.stock_malloc:  # grpo::keep_freed_memory_for_reuse's mallopt, as glibc tunables for Python
        env.update(MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_=str(2**31 - 1))
    if not os.path.exists(os.path.join(args.checkpoint, "config.json")):
        google_bench([rollout_bench], f"BM_Engine_Decode/model:{model_index}/batch:1/new:256/onednn:1/",
                     dict(env, GRPO_BENCH_SAVE_DIR=args.checkpoint, GRPO_BENCH_NEW_TOKENS="2"))
    env["GRPO_BENCH_MODEL_DIR"] = args.checkpoint

    print(f"checkpoint {args.checkpoint}; {args.threads} threads each (cores {cores}); OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']} "
          f"GOMP_SPINCOUNT={env.get('GOMP_SPINCOUNT', '-')}; malloc {'stock' if args.stock_malloc else 'no mmap, no trim'}; "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    header = (f"{'batch':>5} {'new':>4} {'round':>5} {'ours tok/s':>10} {'aten':>9} {'base':>9} {'HF tok/s':>9} {'ratio':>6} {'base/HF':>7} {'GFLOP/s':>8} "
              f"{'peak GF/s':>9} {'% peak':>6} {'RSS MB':>7} {'loaded':>7} {'growth':>6} {'weights':>7} {'KV MB':>6} {'HF RSS':>7} {'load':>5}")
    print(header, flush=True)
    for batch in args.batch:
        for new in args.new:
            for r in range(args.rounds):
                peak = google_bench(taskset + [core_bench], "BM_Matmul_Fp32/1024", env)["GFLOP/s"]

                def ours(onednn=1, binary=rollout_bench):
                    if (onednn == 0 and not args.aten) or binary is None:
                        return {"tok/s": float("nan")}
                    return google_bench(taskset + [binary],
                                        f"BM_Engine_Decode/model:{model_index}/batch:{batch}/new:{new}/onednn:{onednn}/", env)

                def hf():
                    if args.no_hf:
                        return {"tok_per_s": float("nan"), "peak_rss_MB": float("nan")}
                    cmd = taskset + [sys.executable, __file__, "--threads", str(args.threads), "--hf-child", args.checkpoint,
                                     str(batch), str(new)]
                    return json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.splitlines()[-1])

                if r % 2 == 0:
                    o, a, b, h = ours(), ours(onednn=0), ours(binary=base_bench), hf()
                else:
                    h, b, a, o = hf(), ours(binary=base_bench), ours(onednn=0), ours()
                tok, gflops = o["tok/s"], o["GFLOP/s"]
                print(f"{batch:5d} {new:4d} {r:5d} {tok:10.1f} {a['tok/s']:9.1f} {b['tok/s']:9.1f} {h['tok_per_s']:9.1f} {tok / h['tok_per_s']:6.2f} "
                      f"{b['tok/s'] / h['tok_per_s']:7.2f} {gflops:8.1f} "
                      f"{peak:9.1f} {100 * gflops / peak:6.1f} {o['peak_rss_MB']:7.0f} {o['after_load_MB']:7.0f} {o['gen_growth_MB']:6.0f} {o['weights_MB']:7.0f} {o['kv_MB']:6.0f} "
                      f"{h['peak_rss_MB']:7.0f} {os.getloadavg()[0]:5.1f}", flush=True)


if __name__ == "__main__":
    main()
