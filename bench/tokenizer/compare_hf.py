#!/usr/bin/env python3
"""Side by side: grpo's tokenizer (tokenizer_bench) vs Hugging Face `tokenizers`.

Usage: bench/tokenizer/compare_hf.py BENCH_BINARY [TOKENIZER_JSON] [--mb 4] [--threads 2] [--grpo GRPO_BINARY]
  e.g. .venv/bin/python bench/tokenizer/compare_hf.py build/bench/tokenizer/tokenizer_bench --grpo build/cli/grpo

Builds one deterministic corpus (Python sources of the installed `transformers`
package for English + code, plus multilingual / CJK / emoji / math lines),
checks both give identical ids on it, then measures in the same run:
  encode MB/s, one thread (document by document; HF: Tokenizer.encode)
  encode MB/s, batched on T threads (grpo encode_batch; HF encode_batch with
  RAYON_NUM_THREADS=T)
  RSS growth of loading the tokenizer (after malloc_trim, both sides)
and prints a table with the ratio grpo / HF.
"""
import argparse
import ctypes
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("bench")
ap.add_argument("tokenizer", nargs="?", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/tokenizers/qwen3/tokenizer.json"))
ap.add_argument("--mb", type=float, default=4.0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--grpo", help="grpo binary: also check identical ids on 300 documents")
args = ap.parse_args()
os.environ["RAYON_NUM_THREADS"] = str(args.threads)
os.environ["TOKENIZERS_PARALLELISM"] = "true"

from tokenizers import Tokenizer  # noqa: E402  (after RAYON_NUM_THREADS)
import transformers  # noqa: E402

libc = ctypes.CDLL("libc.so.6")


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1048576


def corpus(limit):
    rng = random.Random(5)
    extra = ["你好，世界！数学很有趣。日本語のテキストとカタカナ。", "한국어 텍스트와 emoji 👍🏽 👨‍👩‍👧‍👦 🇺🇸",
             "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$ and \\boxed{42}", "Ελληνικά, русский текст, नमस्ते, العربية",
             "    indented\tcode = [1, 2, 3]  # comment\n\n\n", "Numbers 1234567890 3.14159 1,234,567"]
    docs, size = [], 0
    files = sorted(glob.glob(os.path.join(os.path.dirname(transformers.__file__), "**", "*.py"), recursive=True))
    for path in files:
        text = open(path, encoding="utf-8", errors="replace").read()
        for i in range(0, len(text), 2000):
            doc = text[i:i + 2000]
            if rng.random() < 0.15:
                doc += "\n" + " ".join(rng.choice(extra) for _ in range(4))
            docs.append(doc)
            size += len(doc.encode())
            if size >= limit:
                return docs, size
    return docs, size


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    docs, size = corpus(int(args.mb * 1048576))
    libc.malloc_trim(0)
    before = rss_mb()
    tok = Tokenizer.from_file(args.tokenizer)
    libc.malloc_trim(0)
    hf_rss = rss_mb() - before

    with tempfile.TemporaryDirectory() as d:
        corpus_path = os.path.join(d, "corpus.jsonl")
        with open(corpus_path, "w", encoding="utf-8") as f:
            for doc in docs:
                f.write(json.dumps(doc, ensure_ascii=False) + "\n")
        # Identical ids first: a fast wrong tokenizer is no result.
        if args.grpo:
            enc = subprocess.run([args.grpo, "tokenizer", "encode", "--tokenizer", args.tokenizer], check=True,
                                 input="".join(json.dumps(x, ensure_ascii=False) + "\n" for x in docs[:300]), capture_output=True, text=True)
            ours = [json.loads(l) for l in enc.stdout.splitlines()]
            theirs = [e.ids for e in tok.encode_batch(docs[:300], add_special_tokens=False)]
            print(f"parity on 300 corpus documents: {sum(a == b for a, b in zip(ours, theirs))}/300 identical")
        env = dict(os.environ, GRPO_BENCH_TOKENIZER=args.tokenizer, GRPO_BENCH_CORPUS=corpus_path)
        out = subprocess.run([args.bench, "--benchmark_format=json", f"--benchmark_filter=Load|SingleThread|Batch/{args.threads}/"],
                             env=env, capture_output=True, text=True, check=True)
    bench = {b["name"].split("/min_time")[0].split("/real_time")[0].split("/iterations")[0]: b
             for b in json.loads(out.stdout)["benchmarks"]}

    tok.encode_batch(docs[:200])  # warm the cache as the C++ side does
    hf_single = size / 1048576 / best_of(lambda: [tok.encode(d, add_special_tokens=False) for d in docs])
    hf_batch = size / 1048576 / best_of(lambda: tok.encode_batch(docs, add_special_tokens=False))
    ours_single = bench["BM_Encode_SingleThread"]["bytes_per_second"] / 1048576
    ours_batch = bench[f"BM_Encode_Batch/{args.threads}"]["bytes_per_second"] / 1048576
    load = bench["BM_Tokenizer_Load"]
    print(f"corpus: {len(docs)} documents, {size / 1048576:.1f} MB; tokenizer {args.tokenizer} ({int(load['vocab'])} ids); "
          f"{os.cpu_count()} CPUs visible, {args.threads} threads for batches")
    print(f"{'measure':34} {'grpo':>10} {'HF tokenizers':>14} {'grpo/HF':>8}")
    print(f"{'encode MB/s, 1 thread':34} {ours_single:10.2f} {hf_single:14.2f} {ours_single / hf_single:8.2f}")
    print(f"{'encode MB/s, batch, ' + str(args.threads) + ' threads':34} {ours_batch:10.2f} {hf_batch:14.2f} {ours_batch / hf_batch:8.2f}")
    print(f"{'RSS growth of load (MB)':34} {load['rss_delta_MB']:10.1f} {hf_rss:14.1f} {load['rss_delta_MB'] / hf_rss:8.2f}")
    print(f"grpo tables (vocab + merges): {load['tables_MB']:.1f} MB")


if __name__ == "__main__":
    main()
