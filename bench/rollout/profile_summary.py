"""Sums a torch profiler trace (rollout_bench with GRPO_BENCH_PROFILE=file.json)
into self time per op: where a decode step's time goes.

    GRPO_BENCH_PROFILE=/tmp/p.json build/bench/rollout/rollout_bench --benchmark_filter=...
    .venv/bin/python bench/rollout/profile_summary.py /tmp/p.json [--top 40]

Self time = an op's wall time minus that of the ops it called (same thread).
Time between ops of the main thread (host code: slot bookkeeping, the
sampler's own loops, ...) is reported as `(between ops)`; a grpo::* scope
(RECORD_FUNCTION in the engine) counts its ops' time and its own code.
"""
import argparse
import collections
import json


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--shapes", action="store_true", help="one line per (op, input shapes)")
    args = ap.parse_args()
    with open(args.trace) as f:
        events = json.load(f)["traceEvents"]
    ops = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("cpu_op", "user_annotation")]
    by_thread = collections.defaultdict(list)
    for e in ops:
        by_thread[e["tid"]].append(e)
    self_us = collections.Counter()
    total_us = collections.Counter()
    calls = collections.Counter()
    wall = 0.0
    for tid, evs in by_thread.items():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name, child time]
        top_covered = 0.0
        def pop_until(ts):
            while stack and stack[-1][0] <= ts:
                end, name, child = stack.pop()
                dur = end - stack_start.pop()
                self_us[name] += dur - child
        stack_start = []
        for e in evs:
            pop_until(e["ts"])
            if stack:
                stack[-1][2] += e["dur"]
            else:
                top_covered += e["dur"]
            name = e["name"]
            if args.shapes:
                name += " " + str(e.get("args", {}).get("Input Dims", ""))
            stack.append([e["ts"] + e["dur"], name, 0.0])
            stack_start.append(e["ts"])
            total_us[name] += e["dur"]
            calls[name] += 1
        pop_until(float("inf"))
        if evs:
            span = max(e["ts"] + e["dur"] for e in evs) - evs[0]["ts"]
            if span > wall:
                wall = span
                self_us["(between ops)"] = span - top_covered
    total_self = sum(self_us.values())
    print(f"main thread span {wall / 1e3:.1f} ms; self times (ms, % of the span), calls, total incl. callees (ms)")
    for name, us in self_us.most_common(args.top):
        print(f"{us / 1e3:10.1f} {100 * us / wall:6.1f}%  {calls[name]:7d}  {total_us[name] / 1e3:10.1f}  {name}")
    print(f"sum of self times {total_self / 1e3:.1f} ms")


if __name__ == "__main__":
    main()
