// model_layers.h: the building blocks of CausalLM (internal to policies/):
// RMSNorm, RoPE tables, SwiGLU MLP, MLA and GQA attention, the DeepSeekMoE
// layer and the decoder layer. Submodules are registered under their Hugging
// Face names so that CausalLM::named_parameters() equals the checkpoint names.
//
// Shapes: B batch, T new tokens, Tk keys (cached + new), D hidden, H heads.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "policies/kv_cache.h"
#include "policies/model_config.h"
#include "policies/onednn_linear.h"

namespace grpo::policies::detail {

// Per-forward state shared by all layers.
struct ForwardContext {
  torch::Tensor cos, sin;   // [B,T,rot/2] fp32 rotation tables (amplitude factor applied)
  torch::Tensor allowed;    // [B,1,T,Tk] bool: query i may attend key j
  torch::Tensor token_mask; // [B,T] bool real tokens (for balance statistics); undefined = all
  KvCache* cache = nullptr;
  std::vector<int64_t> slots;   // cache slot per batch row
  std::vector<int64_t> starts;  // cached length per row before this forward
  torch::Tensor slot_index;     // slots as an int64 tensor on the model's device
  torch::Tensor start_index;    // starts as an int64 tensor on the model's device
  int64_t first_slot = -1;      // >= 0 when slots are first_slot, first_slot+1, ... (cache read as a view)
  // GQA with a cache: SDPA mask [B,1,G·T,Tk] (or broadcastable) over the
  // grouped query rows; undefined when every key is visible (uniform decode).
  torch::Tensor grouped_mask;
  // No cache: the SDPA mask [B,1,T,T] (`allowed`, with rows that see no key
  // opened to all keys); undefined when no token is padding (plain causal).
  torch::Tensor dense_mask;
  int64_t key_len = 0;          // Tk
  bool mla_absorbed = true;     // with a cache: absorbed MLA (else expand the latent)
  double balance_alpha = 0.0;   // > 0: accumulate the sequence-wise balance loss
  torch::Tensor balance_loss;   // accumulator
  // false while a checkpointed block is recomputed in backward: its tokens were
  // already counted as expert load by the forward.
  bool record_expert_load = true;
  // > 0 (no cache; a GQA layer with a dense MLP): the layer's output only at
  // positions >= query_start, [B, T - query_start, D]: queries, attention
  // output, residual, norm and MLP of those rows only, keys and values of all.
  // CausalLM::token_scores sets it for the last layer when no earlier position
  // is scored.
  int64_t query_start = 0;
  OnednnLinear onednn;  // which linear products go through oneDNN (the engine's forwards; none by default)
};

// y = w · cast(x32 · rsqrt(mean(x32²) + eps))  (HF order: cast, then multiply);
// CPU fp32 runs it as one pass per row with its own backward (fused_rms_norm.h).
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// inv_freq [rot/2] for the config's RoPE (plain, yarn, llama3, linear) and the
// cos/sin amplitude factor (YaRN's attention_factor; 1 otherwise).
std::pair<torch::Tensor, double> rope_inv_freq(const ModelConfig& c);
// Rotates x [..., rot] with cos/sin [..., rot/2] broadcast over heads.
// interleaved: pairs (2i, 2i+1) as stored by DeepSeek; output is in the
// de-interleaved layout [x_even', x_odd'] (as HF does) — q·k is unchanged.
// Otherwise rotate_half over halves (Qwen2/Llama): fused_rope.h for CPU fp32 [B,H,T,hd].
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, bool interleaved);

// down(silu(gate(x)) * up(x)); the activation is fused_swiglu.h's swiglu.
class MLPImpl : public torch::nn::Module {
 public:
  MLPImpl(int64_t dim, int64_t inner, bool bias);
  torch::Tensor forward(const torch::Tensor& x, OnednnLinear fast = {});
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(MLP);

// Multi-head latent attention (DeepSeek V2/V3).
class MLAImpl : public torch::nn::Module {
 public:
  MLAImpl(const ModelConfig& c, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, ForwardContext& ctx);
  torch::nn::Linear q_proj{nullptr}, q_a_proj{nullptr}, q_b_proj{nullptr}, kv_a_proj_with_mqa{nullptr},
      kv_b_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_a_layernorm{nullptr}, kv_a_layernorm{nullptr};

 private:
  ModelConfig c_;
  int64_t layer_;
  double scale_;
};
TORCH_MODULE(MLA);

// Grouped-query attention (Qwen2 / Llama).
class GQAImpl : public torch::nn::Module {
 public:
  GQAImpl(const ModelConfig& c, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, ForwardContext& ctx);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  ModelConfig c_;
  int64_t layer_;
  double scale_;
};
TORCH_MODULE(GQA);

// The router of a DeepSeekMoE layer: "weight" [E,D] and buffer
// "e_score_correction_bias" [E] (fp32, selection only).
class RouterImpl : public torch::nn::Module {
 public:
  explicit RouterImpl(const ModelConfig& c);
  // Returns (weights [N,K] fp32, indices [N,K] int64, scores [N,E] fp32).
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> route(const torch::Tensor& x);
  torch::Tensor weight;
  torch::Tensor e_score_correction_bias;

 private:
  ModelConfig c_;
};
TORCH_MODULE(Router);

// How MoEImpl::forward runs the routed experts (policies/moe_dispatch.h):
// kAuto picks kGrouped where it is sync-free (bf16 on sm90/sm100), else kHostLoop.
enum class MoeDispatch { kAuto, kHostLoop, kGrouped };

// Shared experts + routed experts; routed experts run only on their tokens.
class MoEImpl : public torch::nn::Module {
 public:
  explicit MoEImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, ForwardContext& ctx);
  MoeDispatch dispatch = MoeDispatch::kAuto;  // tests force either way
  Router gate{nullptr};
  torch::nn::ModuleList experts{nullptr};
  MLP shared_experts{nullptr};
  std::vector<MLP> expert_list;
  torch::Tensor load_counts;  // [E] int64, accumulated in training mode (not a checkpoint tensor)

 private:
  ModelConfig c_;
};
TORCH_MODULE(MoE);

// Pre-norm decoder layer. An MTP layer (mtp = true) adds embed_tokens, enorm,
// hnorm, eh_proj and shared_head.{norm,head}.
class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const ModelConfig& c, int64_t layer, bool mtp = false);
  torch::Tensor forward(const torch::Tensor& x, ForwardContext& ctx);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  MLA mla{nullptr};
  GQA gqa{nullptr};
  MLP dense{nullptr};
  MoE moe{nullptr};
  // MTP only
  torch::nn::Embedding embed_tokens{nullptr};
  RMSNorm enorm{nullptr}, hnorm{nullptr}, head_norm{nullptr};
  torch::nn::Linear eh_proj{nullptr}, head{nullptr};
};
TORCH_MODULE(DecoderLayer);

// "model": embed_tokens, layers (main + MTP), norm.
class BackboneImpl : public torch::nn::Module {
 public:
  BackboneImpl(const ModelConfig& c, bool with_mtp);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  std::vector<DecoderLayer> layer_list;  // main layers first, then MTP
  RMSNorm norm{nullptr};
};
TORCH_MODULE(Backbone);

}  // namespace grpo::policies::detail
