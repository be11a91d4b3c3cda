"""Grades tests/rewards/math_cases.jsonl with Hugging Face Math-Verify.

Usage: python math_verify_reference.py CASES.jsonl OUT.jsonl
Writes one line per case: {"id": N, "math_verify": true|false}. The C++ test
(math_agreement_test.cpp) compares these with our grader. Math-Verify is used
as its README shows: parse(gold), parse(completion), verify(gold, answer).
A bare gold ("\\frac{1}{2}", no "$" and no box) is wrapped in "$...$" first:
Math-Verify's LaTeX extractor only looks inside math delimiters or boxes, and
without the wrap it falls back to reading plain numbers only.
"""
import json
import sys

from math_verify import parse, verify


def main() -> None:
    cases_path, out_path = sys.argv[1], sys.argv[2]
    with open(cases_path) as f, open(out_path, "w") as out:
        for line in f:
            case = json.loads(line)
            gold_text = case["gold"]
            if "$" not in gold_text and "\\boxed" not in gold_text and "####" not in gold_text:
                gold_text = "$" + gold_text + "$"
            gold = parse(gold_text)
            answer = parse(case["completion"])
            ok = bool(verify(gold, answer))
            out.write(json.dumps({"id": case["id"], "math_verify": ok}) + "\n")


if __name__ == "__main__":
    main()
