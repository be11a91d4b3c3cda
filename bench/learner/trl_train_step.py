"""The training part of a TRL GRPO step, timed, for comparison with
learner_bench's BM_GrpoStep on the same model shape and batch.

It runs TRL 1.16's own code: add_fused_lm_head patches the transformers model
(chunked log-probs + entropy, as GRPOTrainer does), GRPOTrainer._compute_loss
computes the dapo loss, then backward, clip_grad_norm_ and AdamW.step, like
the Trainer's training_step + optimizer step (PyTorch eager, fp32, CPU).

usage: trl_train_step.py [small|base50m] [steps]
Prints one JSON line: ms/step, tokens/s and tokens per CPU-second of the
process (time.process_time, all threads; means over the steps after one
warm-up step), threads, and the process's peak RSS. bench/learner/trl_compare.py
runs it beside learner_bench.
"""
import contextlib
import json
import resource
import sys
import time
import types
from collections import defaultdict

import torch
import transformers
from trl.trainer.grpo_trainer import GRPOTrainer
from trl.trainer.utils import add_fused_lm_head

ROWS, PROMPT, COMPLETION = 8, 64, 192
PRESETS = {"small": (256, 4, 8), "base50m": (512, 12, 8)}  # hidden, layers, heads (qwen2, ModelConfig::preset)


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "small"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    d, layers, heads = PRESETS[name]
    cfg = transformers.Qwen2Config(vocab_size=32000, hidden_size=d, intermediate_size=3 * d, num_hidden_layers=layers,
                                   num_attention_heads=heads, num_key_value_heads=2, head_dim=d // heads,
                                   tie_word_embeddings=True, rope_theta=1e6, max_position_embeddings=4096)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(cfg).float()
    model.train()
    add_fused_lm_head(model, temperature=1.0, cast_lm_head_to_fp32=False, outputs=("log_probs", "entropy"))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6, weight_decay=0.0)
    fake = types.SimpleNamespace(
        args=types.SimpleNamespace(delta=None, use_bias_correction_kl=True, steps_per_generation=1),
        accelerator=types.SimpleNamespace(num_processes=1, is_main_process=True, autocast=contextlib.nullcontext, gather=lambda x: x,
                                          gather_for_metrics=lambda x: x, reduce=lambda x, reduction="sum": x),
        model=model, aux_loss_enabled=False, top_entropy_quantile=1.0, off_policy_mask_threshold=None,
        importance_sampling_level="token", beta=0.0, loss_type="dapo", epsilon_low=0.2, epsilon_high=0.2,
        use_vllm=False, vllm_importance_sampling_correction=False, current_gradient_accumulation_steps=1,
        max_completion_length=COMPLETION, _entropy_bonus_enabled=False, use_adaptive_entropy=False,
        _metrics={"train": defaultdict(list)})
    fake._get_per_token_logps_and_entropies = types.MethodType(GRPOTrainer._get_per_token_logps_and_entropies, fake)
    ids = torch.randint(2, 32000, (ROWS, PROMPT + COMPLETION))
    inputs = {
        "prompt_ids": ids[:, :PROMPT], "prompt_mask": torch.ones(ROWS, PROMPT, dtype=torch.long),
        "completion_ids": ids[:, PROMPT:], "completion_mask": torch.ones(ROWS, COMPLETION, dtype=torch.long),
        "advantages": torch.tensor([1.0, -1.0] * (ROWS // 2)), "num_items_in_batch": torch.tensor(float(ROWS * COMPLETION)),
    }
    times, cpu_times = [], []
    for _ in range(steps + 1):  # the first is warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        loss = GRPOTrainer._compute_loss(fake, model, inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    step, cpu_step = sum(times[1:]) / steps, sum(cpu_times[1:]) / steps
    tokens = ROWS * (PROMPT + COMPLETION - 1)
    print(json.dumps({"preset": name, "ms_per_step": step * 1e3, "tokens_per_s": tokens / step,
                      "tokens_per_cpu_s": tokens / cpu_step, "threads": torch.get_num_threads(),
                      "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
