"""`grpo train` side by side with TRL's GRPOTrainer (PyPI `trl`) on this CPU,
in one invocation: the same tiny Qwen2 checkpoint (made and saved by
transformers), the same tokenizer, prompts, group size G, prompts per step,
completion length, loss (dapo, beta 0, one optimizer step per generation),
learning rate and thread count. Both sample at temperature 1 from a random
policy, so neither stops early: every completion is max_new_tokens long.

  .venv/bin/python bench/train/trl_compare.py --grpo build/cli/grpo [--steps 6] [--prompts 2] [--group 8] [--new 32] [--shape tiny]

Timing is wall time per GRPO step (generation + reward + loss/backward +
optimizer), from step end to step end, step 1 (warm-up) left out: grpo's
time/step from its run store, TRL's from a TrainerCallback. Model loading and
start-up are outside both. Prints steps/s of each and the ratio grpo/TRL,
and CPU seconds per step (process CPU time over all steps, grpo's including
its start-up), which a loaded shared machine disturbs less than wall time.
The reward is the same cheap function on both sides (minus the completion
length over max_new_tokens: grpo's built-in `length` reward, mode linear).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

import bench_assets


def run_grpo(args, grpo, model, prompts, run_dir):
    rewards = [{"type": "length", "params": {"mode": "linear", "max_tokens": args.new}}]
    path = bench_assets.recipe(model, prompts, run_dir, "grpo", args.steps, args.prompts, args.group, args.new, args.threads,
                               rewards, {"rollout": {"workers": 0}})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([grpo, "train", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    m = bench_assets.run_metrics(os.path.join(run_dir, "grpo", "run.db"), ["time/step", "completion/length/mean"])
    return m["time/step"][1:], statistics.mean(m["completion/length/mean"]), cpu / args.steps


def run_trl(args, model, prompts, out_dir):
    import torch
    import transformers
    from datasets import load_dataset
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(args.threads)
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(model, "tokenizer.json"),
                                               eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    data = load_dataset("json", data_files=prompts, split="train").rename_column("question", "prompt")

    def length_reward(completion_ids, **kwargs):
        return [-min(len(c) / args.new, 1.0) for c in completion_ids]

    ends, lengths = [], []

    class StepTimes(transformers.TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            ends.append(time.perf_counter())

        def on_log(self, a, state, control, logs=None, **kw):
            if logs and "completions/mean_length" in logs:
                lengths.append(logs["completions/mean_length"])

    cfg = GRPOConfig(output_dir=out_dir, per_device_train_batch_size=args.prompts * args.group,
                     num_generations=args.group, max_completion_length=args.new, max_steps=args.steps,
                     learning_rate=1e-5, loss_type="dapo", beta=0.0, temperature=1.0, top_p=1.0, top_k=0,
                     num_iterations=1, gradient_accumulation_steps=1, use_cpu=True, bf16=False, fp16=False,
                     logging_steps=1, report_to="none", save_strategy="no", seed=1, dataloader_num_workers=0,
                     disable_tqdm=True)
    model_obj = transformers.AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    trainer = GRPOTrainer(model=model_obj, reward_funcs=length_reward, args=cfg, train_dataset=data,
                          processing_class=tok, callbacks=[StepTimes()])
    cpu0 = time.process_time()
    trainer.train()
    cpu = time.process_time() - cpu0
    return [b - a for a, b in zip(ends, ends[1:])], statistics.mean(lengths) if lengths else float("nan"), cpu / args.steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grpo", required=True)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--prompts", type=int, default=2)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shape", choices=sorted(bench_assets.SHAPES), default="tiny")
    args = ap.parse_args()
    grpo = os.path.abspath(args.grpo)
    with tempfile.TemporaryDirectory() as tmp:
        tok = bench_assets.make_tokenizer(grpo, os.path.join(tmp, "assets"))
        model = bench_assets.make_model(os.path.join(tmp, "model"), tok, args.shape)
        prompts = bench_assets.make_prompts(os.path.join(tmp, "prompts.jsonl"))
        ours, our_len, our_cpu = run_grpo(args, grpo, model, prompts, os.path.join(tmp, "runs"))
        theirs, their_len, their_cpu = run_trl(args, model, prompts, os.path.join(tmp, "trl"))
    ours_s, theirs_s = statistics.mean(ours), statistics.mean(theirs)
    setup = {"shape": args.shape, "prompts_per_step": args.prompts, "G": args.group, "max_new_tokens": args.new,
             "threads": args.threads, "timed_steps": args.steps - 1}
    print(json.dumps({"impl": "grpo train", "s_per_step": round(ours_s, 4), "steps_per_s": round(1 / ours_s, 3),
                      "cpu_s_per_step": round(our_cpu, 4),
                      "completion_len": round(our_len, 1), **setup}))
    print(json.dumps({"impl": "trl GRPOTrainer", "s_per_step": round(theirs_s, 4), "steps_per_s": round(1 / theirs_s, 3),
                      "cpu_s_per_step": round(their_cpu, 4),
                      "completion_len": round(their_len, 1), **setup}))
    print(json.dumps({"speedup_grpo_over_trl": round(theirs_s / ours_s, 2),
                      "cpu_time_ratio_trl_over_grpo": round(their_cpu / our_cpu, 2)}))


if __name__ == "__main__":
    main()
