#!/usr/bin/env python3
"""Reference outputs from Hugging Face `tokenizers` for tests/tokenizer.

Usage: hf_reference.py OUT_DIR [TOKENIZER_JSON_NAME=PATH ...]

Writes into OUT_DIR:
  strings.jsonl          the test strings (one JSON string a line, >= 200)
  built/<style>/tokenizer.json   tokenizers this script trains with `tokenizers`
                         using the Qwen, DeepSeek-V3, GPT-2 and Llama-3 style
                         pre-tokenizers (so parity runs without the real files)
  <name>.jsonl           per tokenizer (built ones and NAME=PATH arguments), one
                         line per string: {"ids", "ids_nospecial", "decoded"},
                         then lines {"decode_ids", "text", "text_skip"} for
                         random id sequences (invalid UTF-8 included).
Deterministic: fixed seeds, no network.
"""
import json
import os
import random
import sys
import unicodedata

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

QWEN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
DS1 = r"\p{N}{1,3}"
DS2 = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"
DS3 = ("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
       " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+")

FRAGMENTS = [
    "Hello", "world", " the", "The quick brown fox", "jumps over the lazy dog.", "don't", "I'M", "they'll", "we've",
    "'S", "it's", "You'RE", " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", " \n ", "\u3000", "\u00a0", "\u2009",
    "\u200b", "\u2028", "\x0b", "\x0c", "\x85", "2024", "3.14159", "1,234,567", "007", "x2", "٣٤٥", "Ⅻ", "½", "①",
    "世界", "你好，世界！", "日本語のテキスト", "カタカナ", "ひらがな", "한국어 텍스트", "\u1100\u1161\u11a8",
    "👍", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🇺🇸", "🏳️\u200d🌈", "❤️", "e\u0301", "café", "Å", "\u212b", "ﬁ",
    "naïve", "Ελληνικά", "русский текст", "עברית", "العربية", "नमस्ते", "ภาษาไทย", "def f(x):\n    return x**2",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}", "if x != None and y >= 3:", "print(\"hi\")", "a_b_c", "__init__",
    "\\frac{a}{b}", "$\\sum_{i=1}^{n} i^2$", "\\boxed{42}", "x^{2}+y^{2}=z^{2}", "!!!", "???", "...", "--", "—", "«»",
    "(", ")", "[", "]", "{}", "<", ">", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>",
    "<tool_call>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<|im_end",
    "<｜place▁holder▁no▁7｜>", "<mask>", "[SW]", "a[SW]b", "ÿ", "\x7f", "\x01", "ĠĊ", "\ufeff", "\U0001d400",
]

HAND = [
    "", " ", "a", "Hello world", "Hello  world", "Hello   world", "a  b", " 1", "  1", "x   ", "   ", "\n", " \n",
    "\n \n", "a\n\nb", "a \n b", "a\t\tb", "end  ", "tab\t", "Hello, 世界!\n\n", "12345", "1234567890", "3.14",
    "I'M HERE, don't GO", "They'LL see", "'s", "'ll'", "e\u0301te\u0301", "\u212b\u0301", "\u1e9b\u0323", "가\u11a8",
    "\u1100\u1161", "q\u0307\u0323", "A\u030a\u0301", "👨\u200d👩\u200d👧 family", "emoji🙂text", "<|im_start|>user\nHi<|im_end|>\n",
    "<|im_start|>assistant\n<think>\nreason\n</think>\n\nanswer<|im_end|>", "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\n",
    "text<|endoftext|>more", "<|im_end|><|im_end|>", "<<|im_end|>>", "  <mask>  x", "x <mask> y", "a [SW] b", "a[SW]b",
    "word[SW]", "The answer is \\boxed{\\frac{1}{2}}.", "```python\nimport os\nprint(os.getcwd())\n```",
    "    indented\n        more", "\u00a0\u00a0x", "x\u3000\u3000y", "\u2009\u2009", "trailing space ", "Ünïcödé",
    "ﬁﬂ ligatures", "１２３ fullwidth", "The year 2024 had 366 days.", "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$",
]


def make_strings():
    rng = random.Random(1234)
    strings = list(HAND) + list(FRAGMENTS)
    seps = ["", " ", "  ", "\n", "\t", " \n", "\u3000", "", ""]
    # GRPO_TOKENIZER_STRINGS raises the count for a longer fuzz run by hand.
    while len(strings) < int(os.environ.get("GRPO_TOKENIZER_STRINGS", "420")):
        parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 8))]
        s = ""
        for p in parts:
            s += p + rng.choice(seps)
        strings.append(s)
    return strings


def corpus(strings):
    rng = random.Random(99)
    words = [w for s in strings for w in s.split()] + ["the", "and", "of", "to", "in", "is", "that", "for"] * 20
    docs = list(strings) * 3
    for _ in range(400):
        docs.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 30))))
    return docs


def train(pre, normalizer, docs, vocab, extra, post=None, ignore_merges=False):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(docs, trainer)
    tok.add_tokens(extra)
    if post is not None:
        tok.post_processor = post(tok)
    return tok


def build(out_dir, strings):
    docs = corpus(strings)
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    think = [AddedToken("<think>", special=False, normalized=False), AddedToken("</think>", special=False, normalized=False)]
    built = {
        "qwen_style": train(pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN), "isolated"), byte_level]),
                            normalizers.NFC(), docs, 3000,
                            think + [AddedToken("<mask>", lstrip=True, rstrip=True, special=True, normalized=False),
                                     AddedToken("café", special=False, normalized=True)]),
        "deepseek_style": train(pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(DS1), "isolated"),
                                                          pre_tokenizers.Split(Regex(DS2), "isolated"),
                                                          pre_tokenizers.Split(Regex(DS3), "isolated"), byte_level]),
                                normalizers.Sequence([]), docs, 3000,
                                think + [AddedToken("<｜User｜>", special=False, normalized=True),
                                         AddedToken("<｜Assistant｜>", special=False, normalized=True)]),
        "gpt2_style": train(pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True), None, docs, 1500,
                            [AddedToken("[SW]", single_word=True, special=False, normalized=False)]),
        "llama3_style": train(pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3), "isolated"), byte_level]),
                              None, docs, 2500, think, ignore_merges=True,
                              post=lambda t: processors.TemplateProcessing(
                                  single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", t.token_to_id("<|endoftext|>"))])),
    }
    paths = {}
    for name, tok in built.items():
        d = os.path.join(out_dir, "built", name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        paths[name] = os.path.join(d, "tokenizer.json")
    return paths


def reference(tok, strings, path):
    rng = random.Random(7)
    n = tok.get_vocab_size(with_added_tokens=True)
    specials = [i for i in range(n) if tok.id_to_token(i) is not None]
    with open(path, "w", encoding="utf-8") as f:
        for s in strings:
            ids = tok.encode(s, add_special_tokens=False).ids
            row = {"ids": ids, "ids_with_specials": tok.encode(s, add_special_tokens=True).ids,
                   "ids_nospecial": None, "decoded": tok.decode(ids, skip_special_tokens=False)}
            tok.encode_special_tokens = True
            row["ids_nospecial"] = tok.encode(s, add_special_tokens=False).ids
            tok.encode_special_tokens = False
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        for _ in range(300):
            ids = [rng.choice(specials) for _ in range(rng.randint(1, 12))]
            f.write(json.dumps({"decode_ids": ids, "text": tok.decode(ids, skip_special_tokens=False),
                                "text_skip": tok.decode(ids, skip_special_tokens=True)}, ensure_ascii=False) + "\n")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    strings = make_strings()
    with open(os.path.join(out_dir, "strings.jsonl"), "w", encoding="utf-8") as f:
        for s in strings:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    paths = build(out_dir, strings)
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        paths[name] = path
    for name, path in paths.items():
        reference(Tokenizer.from_file(path), strings, os.path.join(out_dir, name + ".jsonl"))


if __name__ == "__main__":
    main()
