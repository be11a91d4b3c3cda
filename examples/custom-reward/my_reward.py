#!/usr/bin/env python3
"""A custom reward for grpo, written in Python: the "command" reward type.

grpo starts this script once and keeps it running. For every batch it writes
one JSON line per sample on stdin:

  {"id": 0, "prompt": "...", "completion": "...", "completion_tokens": 57,
   "finish_reason": "stop", "row": {"question": "...", "answer": "42"}}

and expects one JSON line per sample on stdout, in any order:

  {"id": 0, "score": 1.0}      or      {"id": 0, "error": "why it could not score"}

Print debugging output to stderr (stdout carries only answers). A crash, a
timeout or a malformed line scores the batch's unanswered samples 0 with an
error, and grpo restarts the script for the next batch.

This example rewards answers that state the gold answer inside <answer> tags,
and gives half a point to a concise one (fewer than 200 words).
"""
import json
import re
import sys

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def score(sample: dict) -> float:
    found = ANSWER.findall(sample["completion"])
    if not found:
        return 0.0
    gold = str(sample["row"].get("answer", "")).strip()
    correct = found[-1].strip() == gold
    concise = len(sample["completion"].split()) < 200
    return (1.0 if correct else 0.0) + (0.5 if correct and concise else 0.0)


def main() -> None:
    for line in sys.stdin:
        sample = json.loads(line)
        try:
            reply = {"id": sample["id"], "score": score(sample)}
        except Exception as e:  # report, do not crash: the rest of the batch still counts
            reply = {"id": sample["id"], "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
