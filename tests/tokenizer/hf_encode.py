#!/usr/bin/env python3
"""Encodes JSON-string lines from stdin with HF `tokenizers`; prints id arrays.

Usage: hf_encode.py TOKENIZER_JSON < strings.jsonl
Used by the trainer test to check that our tokenizer.json loads in HF and
encodes identically.
"""
import json
import sys

from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
for line in sys.stdin:
    if line.strip():
        print(json.dumps(tok.encode(json.loads(line), add_special_tokens=False).ids))
