// cpu_decode_step.h: one decode step of a dense GQA model (Qwen2, Llama) on
// the CPU in fp32, for up to kFewRowsMax rows, as one parallel region: the
// embedding rows, every layer's norms, products, attention and residual adds,
// the final norm and the head are loops of one team of threads that meet at
// barriers (core/parallel_phases.h).
//
// Why: at 64 rows a 50M model's step is ~100 kernels of a few hundred
// microseconds each. Run layer by layer (CausalLM's forward), each kernel is
// its own parallel region and between them the host does ATen's dispatch,
// views, adds and allocations on one thread while the other waits: perf
// showed that thread idle ~5% of the step, and the norms (too small to split
// as separate calls) on one thread. Here the host work is done once, up front
// (every pointer of every layer), and the residual adds go into the
// products' stores.
//
// Numerics: the same kernels on the same values as the layer-by-layer forward
// with the engine's products (few_rows_linear, fused_rms_norm, decode_attention
// with the same ATen rotary angles, swiglu), and each residual add stored as
// x + (h W^T + b), as the layer path adds them: the logits equal that path's
// bit for bit (tests/policies/cpu_decode_step_test.cpp).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "policies/kv_cache.h"
#include "policies/model_config.h"
#include "policies/model_layers.h"
#include "policies/onednn_linear.h"

namespace grpo::policies::detail {

// One layer's weights as the step reads them: q/k/v and gate/up each as one
// matrix (shared rows, fused_linear.h), biases undefined where there are none.
struct CpuDecodeLayer {
  const RMSNormImpl* input_norm;
  const RMSNormImpl* post_attention_norm;
  torch::Tensor qkv_weight, qkv_bias, o_weight, o_bias, gate_up_weight, gate_up_bias, down_weight, down_bias;
};

// Every layer's weights, when cpu_decode_step can run a decode step of `rows`
// rows of this model: a dense GQA model (no MLA, no MoE layer) whose
// products the engine's kernel multiplies (`fast` covers every weight, q/k/v
// and gate/up are shared rows, widths the kernel takes, at most kFewRowsMax
// rows, AVX2+FMA), with fp32 CPU parameters and a contiguous fp32 CPU cache.
// Otherwise nothing: the caller runs the layers.
std::optional<std::vector<CpuDecodeLayer>> cpu_decode_layers(const ModelConfig& config, BackboneImpl& model,
                                                             const torch::Tensor& head_weight, OnednnLinear fast, KvCache& cache,
                                                             int64_t rows);

// Logits [B, V] fp32 of one new token per row b: token ids `tokens` [B],
// rotary angles cos/sin [B, hd / 2] (make_context's, amplitude applied); row
// b's key and value are appended at position starts[b] of cache slot
// slots[b], and it attends that slot's keys [0, starts[b]]. The cache's
// lengths are not advanced. `layers` from cpu_decode_layers.
torch::Tensor cpu_decode_step(const ModelConfig& config, BackboneImpl& model, const std::vector<CpuDecodeLayer>& layers,
                              const torch::Tensor& head_weight, const std::vector<int64_t>& tokens, const torch::Tensor& cos,
                              const torch::Tensor& sin, KvCache& cache, const std::vector<int64_t>& slots,
                              const std::vector<int64_t>& starts);

}  // namespace grpo::policies::detail
