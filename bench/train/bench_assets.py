"""Shared set-up of the `grpo train` comparisons in this folder: a byte-level
BPE tokenizer trained with `grpo tokenizer train`, a tiny random Qwen2 policy
made and saved by Hugging Face transformers (so that TRL and grpo load the very
same checkpoint), a JSON-lines prompt set, and a recipe for it.
"""
import json
import os
import shutil
import sqlite3
import subprocess

import tokenizers
import torch
import transformers

# qwen2 "tiny" and "small" shapes of ModelConfig::preset: hidden, layers, heads.
SHAPES = {"tiny": (64, 2, 4), "small": (256, 4, 8)}


def make_tokenizer(grpo, out_dir):
    """tokenizer.json trained on arithmetic questions; returns its path."""
    os.makedirs(out_dir, exist_ok=True)
    corpus = os.path.join(out_dir, "corpus.txt")
    with open(corpus, "w") as f:
        for i in range(400):
            f.write(f"What is {i} + {i * 7 % 50}? aaaa bbb abc\n")
    subprocess.run([grpo, "tokenizer", "train", corpus, "--vocab", "300", "--out", os.path.join(out_dir, "tok")],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out_dir, "tok", "tokenizer.json")


def make_model(out_dir, tokenizer_json, shape="tiny", seed=0):
    """A random Qwen2 saved by transformers (safetensors) with the tokenizer beside it."""
    d, layers, heads = SHAPES[shape]
    # The vocabulary is the tokenizer's exactly, so that every sampled id decodes on both sides.
    vocab = tokenizers.Tokenizer.from_file(tokenizer_json).get_vocab_size(with_added_tokens=True)
    cfg = transformers.Qwen2Config(vocab_size=vocab, hidden_size=d, intermediate_size=3 * d, num_hidden_layers=layers,
                                   num_attention_heads=heads, num_key_value_heads=2, head_dim=d // heads,
                                   max_position_embeddings=4096, tie_word_embeddings=True, bos_token_id=0,
                                   eos_token_id=0, torch_dtype="float32")
    torch.manual_seed(seed)
    transformers.Qwen2ForCausalLM(cfg).save_pretrained(out_dir, safe_serialization=True)
    shutil.copy(tokenizer_json, os.path.join(out_dir, "tokenizer.json"))
    return out_dir


def make_prompts(path, rows=64):
    with open(path, "w") as f:
        for i in range(rows):
            f.write(json.dumps({"question": f"What is {i} + {i * 7 % 50}?"}) + "\n")
    return path


def recipe(model_dir, prompts, run_dir, name, steps, prompts_per_step, group, new_tokens, threads, rewards, extra=None):
    r = {
        "model": {"path": model_dir},
        "data": {"generator": "", "train": prompts, "eval_size": 0, "prompts_per_step": prompts_per_step},
        "template": {"name": "plain", "text": "{question}"},
        "rollout": {"num_generations": group, "max_new_tokens": new_tokens, "workers": 0, "temperature": 1.0},
        "rewards": rewards,
        "learner": {"lr": 1e-5, "loss_type": "dapo", "beta": 0.0, "checkpoint_every": 0},
        "run": {"name": name, "dir": run_dir, "steps": steps, "seed": 1, "threads": threads, "samples_per_step": 0},
    }
    for section, values in (extra or {}).items():
        r.setdefault(section, {}).update(values)
    path = os.path.join(run_dir, name + ".json")
    os.makedirs(run_dir, exist_ok=True)
    with open(path, "w") as f:
        json.dump(r, f, indent=2)
    return path


def run_metrics(db, names):
    """{metric: [value per step]} of a finished run."""
    con = sqlite3.connect(db)
    out = {}
    for n in names:
        rows = con.execute("SELECT value FROM metrics WHERE name = ? ORDER BY step", (n,)).fetchall()
        out[n] = [v for (v,) in rows]
    return out
