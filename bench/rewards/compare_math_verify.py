"""Side-by-side: our math reward vs Hugging Face Math-Verify on the same
realistic completions, in one run, one core each.

Usage: python bench/rewards/compare_math_verify.py BUILD_DIR [N]

Writes N completions (~500 tokens of reasoning and a boxed answer, seeded) to a
temp file, runs BUILD_DIR/bench/rewards/rewards_bench on them (one thread) and
grades them with math_verify.parse + verify in this process (one thread), then
prints completions graded per second for both, the ratio, and whether the two
graders agreed on every completion.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from math_verify import parse, verify

GOLDS = ["\\frac{3}{4}", "2\\sqrt{3}", "12", "-7", "\\{1, 2\\}", "x^2+2x+1", "0.625", "(1, -2)", "\\pi/6", "144"]
RIGHTS = ["\\dfrac{6}{8}", "\\sqrt{12}", "12", "-7", "\\{2, 1\\}", "(x+1)^2", "\\frac{5}{8}", "(1,-2)", "\\frac{\\pi}{6}", "144"]
WRONGS = ["\\frac{2}{3}", "3\\sqrt{2}", "13", "7", "\\{1, 3\\}", "(x-1)^2", "0.6", "(-2, 1)", "\\frac{\\pi}{3}", "121"]


def completions(n: int):
    rng = random.Random(7)
    items = []
    for i in range(n):
        text = "Let me think step by step. "
        for _ in range(30):
            a, b, c = rng.randrange(100), rng.randrange(50), rng.randrange(5000)
            text += f"We have ${a} \\times {b} = {c}$, so the next term follows from the previous one. "
        k = i % 10
        text += "Therefore the final answer is $\\boxed{" + (RIGHTS[k] if i % 2 else WRONGS[k]) + "}$."
        items.append({"completion": text, "gold": GOLDS[k], "expected": bool(i % 2)})
    return items


def main() -> None:
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    items = completions(n)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for it in items:
            f.write(json.dumps(it) + "\n")
        path = f.name
    env = dict(os.environ, GRPO_BENCH_COMPLETIONS=path)
    out = subprocess.run([os.path.join(build, "bench/rewards/rewards_bench"), "--benchmark_format=json"],
                         env=env, check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)["benchmarks"][0]
    ours_rate = ours["items_per_second"]

    start = time.perf_counter()
    mv_correct = []
    for it in items:
        mv_correct.append(bool(verify(parse("$" + it["gold"] + "$"), parse(it["completion"]))))
    mv_rate = n / (time.perf_counter() - start)
    os.unlink(path)

    print(f"completions: {n}, ~{len(items[0]['completion'].split())} words each")
    print(f"ours (grpo math reward): {ours_rate:,.0f} completions/s/core, fraction correct {ours['fraction_correct']:.3f}")
    print(f"math-verify:             {mv_rate:,.1f} completions/s/core, fraction correct {sum(mv_correct) / n:.3f}")
    print(f"speed-up: {ours_rate / mv_rate:,.0f}x")
    print(f"math-verify agrees with the intended grade on {sum(m == it['expected'] for m, it in zip(mv_correct, items))}/{n}")


if __name__ == "__main__":
    main()
