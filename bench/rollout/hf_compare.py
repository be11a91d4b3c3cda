"""Hugging Face transformers `generate` on the checkpoint rollout_bench saved,
same prompt, batch and lengths as BM_Engine_Decode/1/<batch>/<new>.

  GRPO_BENCH_SAVE_DIR=/tmp/b50m build/bench/rollout/rollout_bench --benchmark_filter='Engine_Decode/model:1/batch:64'
  .venv/bin/python bench/rollout/hf_compare.py /tmp/b50m --batch 64 --new 256

Prints tokens/s of decode (KV cache on, sampling, no early stop).
"""
import argparse
import json
import os
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--new", type=int, default=int(os.environ.get("GRPO_BENCH_NEW_TOKENS", 256)))
    args = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    model = AutoModelForCausalLM.from_pretrained(args.checkpoint, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    prompt = [(i * 7919 + 13) % vocab for i in range(16)]  # same as rollout_bench.cpp
    ids = torch.tensor([prompt] * args.batch)
    torch.manual_seed(0)
    with torch.no_grad():
        start = time.perf_counter()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                             max_new_tokens=args.new, min_new_tokens=args.new, use_cache=True, pad_token_id=0)
        elapsed = time.perf_counter() - start
    generated = (out.shape[1] - ids.shape[1]) * args.batch
    print(json.dumps({"impl": "transformers.generate", "batch": args.batch, "new_tokens": args.new,
                      "seconds": round(elapsed, 3), "tok_per_s": round(generated / elapsed, 1),
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
