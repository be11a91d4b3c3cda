"""Runs TRL's own GRPOTrainer._compute_loss on random inputs, one case per
option set, and writes inputs, loss and gradients as JSON for
grpo_loss_trl_test.cpp.

The model forward is replaced by returning given log-prob and entropy leaf
tensors, so the gradients are d loss / d logprobs (and d loss / d entropies):
everything below the log-probs is the same chain rule for both. The rollout
IS ratio is computed by TRL inside _generate_and_score_completions, which
needs a vLLM engine; its few lines are copied below (marked).

usage: trl_loss_reference.py OUT.json
"""
import json
import math
import sys
import types

import torch
from trl.trainer.grpo_trainer import GRPOTrainer

B, T = 6, 7

CASES = [
    {"name": "dapo_default", "loss_type": "dapo"},
    {"name": "grpo", "loss_type": "grpo"},
    {"name": "bnpo", "loss_type": "bnpo"},
    {"name": "dr_grpo", "loss_type": "dr_grpo", "max_completion_length": 9},
    {"name": "grpo_ga2", "loss_type": "grpo", "ga": 2},
    {"name": "bnpo_ga2", "loss_type": "bnpo", "ga": 2},
    {"name": "dr_grpo_ga2", "loss_type": "dr_grpo", "ga": 2, "max_completion_length": 9},
    {"name": "clip_higher", "loss_type": "dapo", "epsilon_high": 0.28},
    {"name": "delta", "loss_type": "dapo", "delta": 1.25},
    {"name": "gspo", "loss_type": "grpo", "importance_sampling_level": "sequence"},
    {"name": "gspo_dapo", "loss_type": "dapo", "importance_sampling_level": "sequence"},
    {"name": "kl_k3", "loss_type": "grpo", "beta": 0.04, "use_bias_correction_kl": False},
    {"name": "kl_k3_ratio_corrected", "loss_type": "dapo", "beta": 0.04, "use_bias_correction_kl": True},
    {"name": "top_entropy", "loss_type": "dapo", "top_entropy_quantile": 0.4},
    {"name": "entropy_bonus", "loss_type": "grpo", "entropy_coef": 0.01},
    {"name": "entropy_bonus_top", "loss_type": "bnpo", "entropy_coef": 0.05, "top_entropy_quantile": 0.5},
    {"name": "is_token_truncate", "loss_type": "dapo", "is_mode": "token_truncate", "is_min": 0.9, "is_max": 1.1},
    {"name": "is_token_mask", "loss_type": "dapo", "is_mode": "token_mask", "is_min": 0.9, "is_max": 1.1},
    {"name": "is_sequence_truncate", "loss_type": "grpo", "is_mode": "sequence_truncate", "is_max": 1.2},
    {"name": "is_sequence_mask", "loss_type": "dapo", "is_mode": "sequence_mask", "is_min": 0.5, "is_max": 2.0},
    {"name": "off_policy_mask", "loss_type": "dapo", "off_policy_mask_threshold": 0.05},
    {"name": "on_policy", "loss_type": "dapo", "on_policy": True},
    {"name": "everything", "loss_type": "grpo", "epsilon_high": 0.28, "delta": 1.4, "beta": 0.02,
     "use_bias_correction_kl": True, "top_entropy_quantile": 0.7, "entropy_coef": 0.02,
     "is_mode": "token_truncate", "is_max": 1.05},
]


class FakeAccelerator:
    num_processes = 1
    sync_gradients = True

    def gather(self, x):
        return x

    gather_for_metrics = gather

    def reduce(self, x, reduction="sum"):
        return x

    def pad_across_processes(self, x, dim=0, pad_index=0):
        return x


def is_ratio(case, old, sampling, mask):
    # Copied from TRL 1.16 GRPOTrainer._generate_and_score_completions (vLLM IS correction).
    diff = torch.nan_to_num((old - sampling) * mask, nan=0.0)
    if case["is_mode"].startswith("sequence"):
        diff = diff.sum(dim=-1, keepdim=True)
    ratio = torch.exp(diff)
    lo, hi = case.get("is_min"), case.get("is_max")
    if case["is_mode"].endswith("truncate"):
        return torch.clamp(ratio, min=lo, max=hi)
    lo = -math.inf if lo is None else lo
    hi = math.inf if hi is None else hi
    return ratio.masked_fill((ratio < lo) | (ratio > hi), 0.0)


def run_case(case, seed):
    g = torch.Generator().manual_seed(seed)
    dt = torch.float64
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    mask = (torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)).to(torch.int64)
    logprobs = -torch.rand(B, T, generator=g, dtype=dt) * 3 - 0.05
    old = logprobs + torch.randn(B, T, generator=g, dtype=dt) * 0.15
    ref = logprobs + torch.randn(B, T, generator=g, dtype=dt) * 0.2
    sampling = old + torch.randn(B, T, generator=g, dtype=dt) * 0.05
    advantages = torch.randn(B, generator=g, dtype=dt)
    entropies = torch.rand(B, T, generator=g, dtype=dt) * 2
    ga = case.get("ga", 1)
    lp_leaf = logprobs.clone().requires_grad_(True)
    ent_leaf = entropies.clone().requires_grad_(True)

    args = types.SimpleNamespace(
        delta=case.get("delta"), use_bias_correction_kl=case.get("use_bias_correction_kl", True),
        steps_per_generation=ga, entropy_target=0.0)
    use_is = "is_mode" in case
    fake = types.SimpleNamespace(
        args=args, accelerator=FakeAccelerator(), model=types.SimpleNamespace(training=True),
        aux_loss_enabled=False, top_entropy_quantile=case.get("top_entropy_quantile", 1.0),
        off_policy_mask_threshold=case.get("off_policy_mask_threshold"),
        importance_sampling_level=case.get("importance_sampling_level", "token"),
        beta=case.get("beta", 0.0), loss_type=case["loss_type"], epsilon_low=0.2,
        epsilon_high=case.get("epsilon_high", 0.2), use_vllm=use_is,
        vllm_importance_sampling_correction=use_is, current_gradient_accumulation_steps=ga,
        max_completion_length=case.get("max_completion_length", T),
        _entropy_bonus_enabled=case.get("entropy_coef", 0.0) != 0.0, use_adaptive_entropy=False,
        entropy_coef=case.get("entropy_coef", 0.0),
        _metrics={"train": __import__("collections").defaultdict(list)},
    )
    fake._get_per_token_logps_and_entropies = lambda *a, **k: (lp_leaf, ent_leaf, None)
    fake.get_high_entropy_mask = lambda e, m, t: GRPOTrainer.get_high_entropy_mask(fake, e, m, t)
    fake.get_off_policy_mask = GRPOTrainer.get_off_policy_mask

    # dapo: TRL divides by num_items_in_batch / processes * GA / steps_per_generation;
    # with GA = steps_per_generation this is the active-token count of the step.
    inputs = {
        "prompt_ids": torch.zeros(B, 1, dtype=torch.long), "prompt_mask": torch.ones(B, 1, dtype=torch.long),
        "completion_ids": torch.zeros(B, T, dtype=torch.long), "completion_mask": mask,
        "advantages": advantages, "num_items_in_batch": mask.sum().to(dt),
        "ref_per_token_logps": ref,
    }
    if not case.get("on_policy"):
        inputs["old_per_token_logps"] = old
    if use_is:
        inputs["importance_sampling_ratio"] = is_ratio(case, old, sampling, mask.to(dt))
        inputs["sampling_per_token_logps"] = sampling
    elif case.get("off_policy_mask_threshold") is not None:
        inputs["sampling_per_token_logps"] = sampling
    loss = GRPOTrainer._compute_loss(fake, None, inputs)
    loss.backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    return {
        "case": case, "B": B, "T": T, "mask": flat(mask), "logprobs": flat(logprobs), "old": flat(old),
        "ref": flat(ref), "sampling": flat(sampling), "advantages": flat(advantages), "entropies": flat(entropies),
        "loss": loss.item(), "grad_logprobs": flat(lp_leaf.grad),
        "grad_entropies": flat(ent_leaf.grad) if ent_leaf.grad is not None else None,
    }


def main():
    out = [run_case(c, 1000 + i) for i, c in enumerate(CASES)]
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
