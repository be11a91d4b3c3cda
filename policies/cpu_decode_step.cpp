// cpu_decode_step.cpp: the step's buffers and per-layer pointers, set up on
// the calling thread, then its loops as parallel phases.
#include "policies/cpu_decode_step.h"

#include <cstring>
#include <string>

#include "core/error.h"
#include "core/parallel_phases.h"
#include "policies/decode_attention.h"
#include "policies/few_rows_linear.h"
#include "policies/fused_linear.h"
#include "policies/fused_rms_norm.h"
#include "policies/fused_swiglu.h"

namespace grpo::policies::detail {

namespace {

bool cpu_fp32_contiguous(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.is_contiguous();
}

// A product the kernel takes: weight [out, in] (bias [out] or none) as
// few_rows_linear would take it, covered by `fast`.
bool step_product_fits(const torch::Tensor& w, const torch::Tensor& b, OnednnLinear fast) {
  return cpu_fp32_contiguous(w) && w.dim() == 2 && fast.covers(w) && few_rows_kernel_runs(w.size(1)) &&
         (!b.defined() || (cpu_fp32_contiguous(b) && b.numel() == w.size(0)));
}

// The q/k/v and gate/up products of a layer as one weight each (shared rows),
// covered by `fast` as fused_linear requires: undefined weight otherwise.
std::pair<torch::Tensor, torch::Tensor> step_shared(const std::vector<torch::nn::Linear*>& layers, OnednnLinear fast) {
  for (torch::nn::Linear* l : layers)
    if (!fast.covers((*l)->weight)) return {};
  return shared_rows(layers);
}

FewRowsProduct step_product(const float* x, const torch::Tensor& w, const torch::Tensor& b, float* y, int64_t rows,
                            bool accumulate) {
  return {x, w.data_ptr<float>(), b.defined() ? b.data_ptr<float>() : nullptr, y, rows, w.size(1), w.size(0), accumulate};
}

ParallelPhase product_phase(const FewRowsProduct& p) {
  return {few_rows_blocks(p), 1, [p](int64_t begin, int64_t end) { few_rows_run(p, begin, end); }};
}

ParallelPhase norm_phase(const float* x, const RMSNormImpl& norm, float* y, int64_t rows, int64_t d) {
  const float* w = norm.weight.data_ptr<float>();
  const float eps = static_cast<float>(norm.eps);
  return {rows, 1, [=](int64_t begin, int64_t end) { rms_norm_rows(x, w, y, d, eps, begin, end); }};
}

}  // namespace

std::optional<std::vector<CpuDecodeLayer>> cpu_decode_layers(const ModelConfig& c, BackboneImpl& model,
                                                             const torch::Tensor& head_weight, OnednnLinear fast, KvCache& cache,
                                                             int64_t rows) {
  if (c.is_mla() || rows < 1 || rows > kFewRowsMax || cache.is_mla() || cache.num_layers() < c.num_hidden_layers ||
      !cpu_fp32_contiguous(model.embed_tokens->weight) || !step_product_fits(head_weight, {}, fast) ||
      !cpu_fp32_contiguous(model.norm->weight) || c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads != 0)
    return std::nullopt;
  std::vector<CpuDecodeLayer> layers;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    DecoderLayerImpl& layer = *model.layer_list[l];
    if (c.is_moe_layer(l) || !layer.gqa || !layer.dense || !cpu_fp32_contiguous(cache.a(l)) || !cpu_fp32_contiguous(cache.b(l)) ||
        !cpu_fp32_contiguous(layer.input_layernorm->weight) || !cpu_fp32_contiguous(layer.post_attention_layernorm->weight))
      return std::nullopt;
    GQAImpl& attn = *layer.gqa;
    MLPImpl& mlp = *layer.dense;
    auto [qkv_w, qkv_b] = step_shared({&attn.q_proj, &attn.k_proj, &attn.v_proj}, fast);
    auto [gu_w, gu_b] = step_shared({&mlp.gate_proj, &mlp.up_proj}, fast);
    if (!qkv_w.defined() || !gu_w.defined() || !step_product_fits(qkv_w, qkv_b, fast) || !step_product_fits(gu_w, gu_b, fast) ||
        !step_product_fits(attn.o_proj->weight, attn.o_proj->bias, fast) ||
        !step_product_fits(mlp.down_proj->weight, mlp.down_proj->bias, fast))
      return std::nullopt;
    layers.push_back({layer.input_layernorm.get(), layer.post_attention_layernorm.get(), qkv_w, qkv_b, attn.o_proj->weight,
                      attn.o_proj->bias, gu_w, gu_b, mlp.down_proj->weight, mlp.down_proj->bias});
  }
  return layers;
}

torch::Tensor cpu_decode_step(const ModelConfig& c, BackboneImpl& model, const std::vector<CpuDecodeLayer>& layers,
                              const torch::Tensor& head_weight, const std::vector<int64_t>& tokens, const torch::Tensor& cos_in,
                              const torch::Tensor& sin_in, KvCache& cache, const std::vector<int64_t>& slots,
                              const std::vector<int64_t>& starts) {
  const int64_t B = static_cast<int64_t>(tokens.size()), D = c.hidden_size, H = c.num_attention_heads;
  const int64_t KV = c.num_key_value_heads, hd = c.dense_head_dim(), I = c.intermediate_size, V = head_weight.size(0);
  const int64_t n_qkv = (H + 2 * KV) * hd;
  if (static_cast<int64_t>(slots.size()) != B || static_cast<int64_t>(starts.size()) != B ||
      static_cast<int64_t>(layers.size()) != c.num_hidden_layers)
    throw Error("cpu_decode_step: " + std::to_string(B) + " tokens, " + std::to_string(slots.size()) + " slots, " +
                std::to_string(starts.size()) + " starts and " + std::to_string(layers.size()) + " layers for a model of " +
                std::to_string(c.num_hidden_layers));
  const int64_t vocab = model.embed_tokens->weight.size(0);
  for (int64_t b = 0; b < B; ++b)
    if (tokens[b] < 0 || tokens[b] >= vocab)
      throw Error("cpu_decode_step: token id " + std::to_string(tokens[b]) + " of row " + std::to_string(b) +
                  " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  const std::vector<int64_t> lens = decode_attention_lengths(slots, starts, cache.max_slots(), cache.max_len());
  const std::vector<int64_t> angle_shape = {B, hd / 2};
  if (cos_in.sizes() != angle_shape || sin_in.sizes() != angle_shape)
    throw Error("cpu_decode_step: cos and sin must be [B, hd / 2] = " + std::to_string(B) + "x" + std::to_string(hd / 2));
  const torch::Tensor cos = cos_in.to(torch::kFloat).contiguous(), sin = sin_in.to(torch::kFloat).contiguous();

  const auto opts = torch::TensorOptions().dtype(torch::kFloat);
  torch::Tensor x = torch::empty({B, D}, opts), h = torch::empty({B, D}, opts), qkv = torch::empty({B, n_qkv}, opts);
  torch::Tensor att = torch::empty({B, H * hd}, opts), gate_up = torch::empty({B, 2 * I}, opts), act = torch::empty({B, I}, opts);
  torch::Tensor logits = torch::empty({B, V}, opts);
  float *xp = x.data_ptr<float>(), *hp = h.data_ptr<float>(), *qkvp = qkv.data_ptr<float>(), *attp = att.data_ptr<float>();
  float *gup = gate_up.data_ptr<float>(), *actp = act.data_ptr<float>();

  std::vector<ParallelPhase> phases;
  phases.reserve(static_cast<size_t>(8 * c.num_hidden_layers + 3));
  const float* embed = model.embed_tokens->weight.data_ptr<float>();
  phases.push_back({B, 1, [=, &tokens](int64_t begin, int64_t end) {
                      for (int64_t r = begin; r < end; ++r) std::memcpy(xp + r * D, embed + tokens[r] * D, sizeof(float) * D);
                    }});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const CpuDecodeLayer& layer = layers[l];
    const DecodeAttentionCall call{qkvp, qkvp + H * hd, qkvp + (H + KV) * hd, cache.a(l).data_ptr<float>(), cache.b(l).data_ptr<float>(),
                                   attp, cos.data_ptr<float>(), sin.data_ptr<float>(), slots.data(), lens.data(), H, KV,
                                   cache.max_len(), hd, n_qkv, n_qkv, n_qkv, static_cast<float>(c.attention_scale())};
    phases.push_back(norm_phase(xp, *layer.input_norm, hp, B, D));
    phases.push_back(product_phase(step_product(hp, layer.qkv_weight, layer.qkv_bias, qkvp, B, false)));
    phases.push_back({B * KV, 1, [call](int64_t begin, int64_t end) { decode_attention_items(call, begin, end); }});
    phases.push_back(product_phase(step_product(attp, layer.o_weight, layer.o_bias, xp, B, true)));
    phases.push_back(norm_phase(xp, *layer.post_attention_norm, hp, B, D));
    phases.push_back(product_phase(step_product(hp, layer.gate_up_weight, layer.gate_up_bias, gup, B, false)));
    phases.push_back({B, 1, [=](int64_t begin, int64_t end) { swiglu_rows(gup, gup + I, 2 * I, actp, I, begin, end); }});
    phases.push_back(product_phase(step_product(actp, layer.down_weight, layer.down_bias, xp, B, true)));
  }
  phases.push_back(norm_phase(xp, *model.norm, hp, B, D));
  phases.push_back(product_phase(step_product(hp, head_weight, {}, logits.data_ptr<float>(), B, false)));
  parallel_phases(phases);
  return logits;
}

}  // namespace grpo::policies::detail
