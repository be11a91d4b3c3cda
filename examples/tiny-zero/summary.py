#!/usr/bin/env python3
"""summary.py RUN_DIR: the tiny-zero run in numbers, from its run store.

Prints the held-out (greedy) accuracy and format rate of the base model (step 0)
and after GRPO (the last evaluation), and the curve: per step the training
reward, accuracy and completion length, with held-out figures where evaluated.
"""
import sqlite3
import sys


def main():
    db = sqlite3.connect(f"file:{sys.argv[1]}/run.db?mode=ro", uri=True)
    rows = db.execute("SELECT step, name, value FROM metrics").fetchall()
    steps = {}
    for step, name, value in rows:
        steps.setdefault(step, {})[name] = value
    evals = [s for s in sorted(steps) if "eval/accuracy/mean" in steps[s]]
    if not evals:
        sys.exit("no held-out evaluation in the run store")

    def pct(step, name):
        v = steps[step].get(name)
        return "  -  " if v is None else f"{100 * v:5.1f}"

    print("step  reward  acc%  fmt%  len   | held-out acc%  fmt%")
    for s in sorted(steps):
        m = steps[s]
        train = (f"{m['reward/mean']:6.3f} {pct(s, 'accuracy/mean')} {pct(s, 'format/rate')} {m.get('completion/length/mean', 0):4.1f}"
                 if "reward/mean" in m else "   -      -     -     - ")
        held = f"{pct(s, 'eval/accuracy/mean')}  {pct(s, 'eval/format/rate')}" if s in evals else ""
        print(f"{s:4d}  {train}  | {held}")
    first, last = evals[0], evals[-1]
    print(f"held-out accuracy: {pct(first, 'eval/accuracy/mean').strip()}% at step {first} -> "
          f"{pct(last, 'eval/accuracy/mean').strip()}% at step {last}")
    print(f"held-out format rate: {pct(first, 'eval/format/rate').strip()}% -> {pct(last, 'eval/format/rate').strip()}%")


if __name__ == "__main__":
    main()
