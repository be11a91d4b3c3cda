"""Reference side of the policies parity tests (run by policies_tests).

  hf_reference.py make OUT   : random tiny deepseek_v3 / deepseek_v3 without q_lora /
                               qwen2 / llama checkpoints saved by transformers under
                               OUT/<name>/, with OUT/<name>/reference.safetensors
                               holding input tokens and fp32 logits.
  hf_reference.py check DIR...: loads DIR (written by our save_hf) in transformers and
                               writes DIR/hf_logits.safetensors for DIR/tokens.safetensors.
  hf_reference.py on DEVICE DIR...: loads DIR (a `make` output) on DEVICE (cpu, cuda) in
                               float32 and in bfloat16 and writes DIR/logits_DEVICE.safetensors
                               with the fp32 logits of both ("fp32", "bf16") for the
                               tokens of DIR/reference.safetensors.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
import transformers
from transformers import AutoModelForCausalLM, DeepseekV3Config, Qwen2Config, LlamaConfig

torch.manual_seed(1234)


def randomize(model, scale=0.08):
    g = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))
        for name, b in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                b.copy_(0.05 * torch.randn(b.shape, generator=g))


def deepseek(q_lora):
    return DeepseekV3Config(
        vocab_size=512, hidden_size=64, intermediate_size=128, moe_intermediate_size=32,
        num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=4,
        q_lora_rank=48 if q_lora else None, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8,
        v_head_dim=16, n_routed_experts=16, n_shared_experts=1, num_experts_per_tok=4, n_group=4,
        topk_group=2, routed_scaling_factor=2.5, norm_topk_prob=True, first_k_dense_replace=1,
        max_position_embeddings=512, rope_theta=10000.0,
        rope_scaling={"type": "yarn", "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128,
                      "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
        tie_word_embeddings=False, attn_implementation="eager")


def qwen2():
    return Qwen2Config(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                       rope_theta=10000.0, tie_word_embeddings=True, attn_implementation="eager")


def llama():
    return LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                       rope_theta=500000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
                       rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                     "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
                       attn_implementation="eager")


def logits(model, tokens):
    with torch.no_grad():
        return model(input_ids=tokens).logits.float().contiguous()


def make(out):
    tokens = torch.randint(0, 512, (2, 24), generator=torch.Generator().manual_seed(7))
    for name, cfg in [("deepseek_v3", deepseek(True)), ("deepseek_v3_noq", deepseek(False)),
                      ("qwen2", qwen2()), ("llama", llama())]:
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32).eval()
        randomize(model)
        d = os.path.join(out, name)
        model.save_pretrained(d, safe_serialization=True)
        save_file({"tokens": tokens.contiguous(), "logits": logits(model, tokens)}, os.path.join(d, "reference.safetensors"))


def check(*dirs):
    for d in dirs:
        check_one(d)


def check_one(d):
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    tokens = load_file(os.path.join(d, "tokens.safetensors"))["tokens"]
    save_file({"logits": logits(model, tokens)}, os.path.join(d, "hf_logits.safetensors"))


def on_device(device, *dirs):
    for d in dirs:
        tokens = load_file(os.path.join(d, "reference.safetensors"))["tokens"].to(device)
        out = {}
        for key, dtype in [("fp32", torch.float32), ("bf16", torch.bfloat16)]:
            model = AutoModelForCausalLM.from_pretrained(d, dtype=dtype, attn_implementation="eager").to(device).eval()
            out[key] = logits(model, tokens).cpu()
        save_file(out, os.path.join(d, "logits_" + device + ".safetensors"))


if __name__ == "__main__":
    {"make": make, "check": check, "on": on_device}[sys.argv[1]](*sys.argv[2:])
