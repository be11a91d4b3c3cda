"""Time saved by scoring each group while the others still generate
(rollout.overlap_rewards), side by side in one invocation: the same `grpo
train` run with the batch scored after generation, then with overlap, on a
reward that takes a fixed time per completion (a stand-in for a remote
verifier or a sandboxed test run).

  .venv/bin/python bench/train/overlap_compare.py --grpo build/cli/grpo [--reward-ms 5] [--max-slots 8] [--steps 6]

Prints per variant the median over --repeats alternating runs of the mean
seconds per step (step 1, the warm-up, left out), the trainer's wait for
rewards (time/reward) and generation, and the ratio.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

import bench_assets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grpo", required=True)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reward-ms", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    # Groups finish in waves only when the engine cannot decode the whole batch at once.
    ap.add_argument("--max-slots", type=int, default=8)
    args = ap.parse_args()
    grpo = os.path.abspath(args.grpo)
    with tempfile.TemporaryDirectory() as tmp:
        tok = bench_assets.make_tokenizer(grpo, os.path.join(tmp, "assets"))
        model = bench_assets.make_model(os.path.join(tmp, "model"), tok)
        prompts = bench_assets.make_prompts(os.path.join(tmp, "prompts.jsonl"))
        reward = os.path.join(tmp, "slow_reward.py")
        with open(reward, "w") as f:
            f.write("import json, sys, time\n"
                    "for line in sys.stdin:\n"
                    "    s = json.loads(line)\n"
                    f"    time.sleep({args.reward_ms / 1000.0})\n"
                    "    c = s['completion']\n"
                    "    print(json.dumps({'id': s['id'], 'score': c.count('a') / max(len(c), 1)}), flush=True)\n")
        rewards = [{"type": "command", "command": ["/usr/bin/python3", reward]}]
        # Alternating runs, so that a change in the machine's load hits both alike.
        per_run = {"after": [], "overlap": []}
        for rep in range(args.repeats):
            for overlap in (False, True):
                name = "overlap" if overlap else "after"
                run = f"{name}{rep}"
                path = bench_assets.recipe(model, prompts, os.path.join(tmp, "runs"), run, args.steps, args.prompts, args.group,
                                           args.new, args.threads, rewards,
                                           {"rollout": {"overlap_rewards": overlap, "workers": args.workers,
                                                        "max_slots": args.max_slots}})
                subprocess.run([grpo, "train", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                m = bench_assets.run_metrics(os.path.join(tmp, "runs", run, "run.db"),
                                             ["time/step", "time/reward", "time/rollout", "rollout/generation_s"])
                per_run[name].append({k: statistics.mean(v[1:]) for k, v in m.items()})
        results = {}
        for name, runs in per_run.items():
            results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(json.dumps({"scoring": "per group, during generation" if name == "overlap" else "whole batch, after generation",
                              "runs": len(runs), **{k: round(v, 4) for k, v in results[name].items()}}))
        print(json.dumps({"reward_ms_per_completion": args.reward_ms, "completions_per_step": args.prompts * args.group,
                          "reward_wait_saved_per_step": round(results["after"]["time/reward"] - results["overlap"]["time/reward"], 4),
                          "step_time_ratio_after_over_overlap": round(results["after"]["time/step"] / results["overlap"]["time/step"], 3),
                          "seconds_saved_per_step": round(results["after"]["time/step"] - results["overlap"]["time/step"], 4)}))

if __name__ == "__main__":
    main()
