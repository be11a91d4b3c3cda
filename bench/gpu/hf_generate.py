#!/usr/bin/env python3
"""Hugging Face transformers' side of the GPU decode figures: `generate` with a
KV cache on the checkpoints gpu_figures saved, same batch, prompt and lengths
as its `decode` (one 16-token prompt repeated `batch` times, exactly `new`
tokens each, temperature 1, no filter), in bfloat16 on the given device.

Usage: python3 bench/gpu/hf_generate.py --checkpoint DIR [--device cuda]
           [--dtype bfloat16] [--batch 64 256] [--new 256]
Prints one JSON object: {"checkpoint", "device", "decode": [{"batch", "new",
"seconds", "tok_per_s", "attn"}]}. tok/s counts generated tokens over the whole
call (prefill and sampling included), after one warm-up call.
"""
import argparse
import json
import time

import torch
from transformers import AutoModelForCausalLM

PROMPT_LEN = 16  # as gpu_figures.cpp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--new", type=int, default=256)
    a = ap.parse_args()
    model = AutoModelForCausalLM.from_pretrained(a.checkpoint, dtype=getattr(torch, a.dtype)).to(a.device).eval()
    vocab = model.config.vocab_size
    prompt = [(i * 7919 + 13) % vocab for i in range(PROMPT_LEN)]
    out = {"checkpoint": a.checkpoint, "device": a.device, "decode": []}
    for batch in a.batch:
        ids = torch.tensor([prompt] * batch, device=a.device)
        kwargs = dict(attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                      max_new_tokens=a.new, min_new_tokens=a.new, use_cache=True, pad_token_id=0)
        torch.manual_seed(0)
        with torch.no_grad():
            model.generate(ids, **kwargs)  # warm-up
            if a.device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            res = model.generate(ids, **kwargs)
            if a.device.startswith("cuda"):
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
        generated = (res.shape[1] - ids.shape[1]) * batch
        out["decode"].append({"batch": batch, "new": a.new, "seconds": elapsed, "tok_per_s": generated / elapsed,
                              "attn": model.config._attn_implementation})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
