// causal_lm.h: the policy network. One class for the DeepSeek-V3 family (MLA +
// DeepSeekMoE + optional MTP) and dense Qwen2 / Llama 3 (GQA + SwiGLU), chosen
// by ModelConfig. Parameters are registered under their exact Hugging Face
// names, so named_parameters() / named_buffers() ARE the checkpoint names
// ("model.layers.0.self_attn.q_a_proj.weight", ...): weight sync and the
// optimizer can address tensors by those names.
//
// Ownership: a torch::nn::Module held by std::shared_ptr (create()/load()
// return one); not copyable. clone() makes an independent deep copy (e.g. a
// frozen reference policy). Parameters are fp32 by default; to() moves/casts.
//
// Two paths:
//   training:  token_logprobs()/token_scores() over a padded batch, log-softmax
//              computed per chunk of positions by a custom autograd function
//              (the [B,T,V] log-softmax is never materialised, not even for
//              backward: the first chunk's log-softmax is kept, the others
//              recomputed there).
//   inference: forward() with a KvCache (prefill, then decode); MLA uses the
//              weight-absorbed attention over the cached latent.
//
// Thread safety: none; one forward at a time.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "policies/kv_cache.h"
#include "policies/model_config.h"
#include "policies/model_layers.h"

namespace grpo::policies {


struct LoadOptions {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat;  // parameters' dtype after load (bf16/f16 on disk convert)
  bool with_mtp = false;                    // load model.layers.{L..}.* (else ignored like HF)
};

struct SaveOptions {
  torch::ScalarType dtype = torch::kFloat;       // on-disk dtype of floating tensors (kFloat, kBFloat16, kHalf)
  int64_t max_shard_bytes = 0;                   // > 0: shard into model-0000k-of-0000n + index
};

// Per-token log-probabilities and (optionally) entropies of the scaled logits.
struct TokenScores {
  torch::Tensor logprobs;   // [B,T] fp32, 0 where mask == 0
  torch::Tensor entropies;  // [B,T] fp32 (undefined unless requested), 0 where mask == 0
};

// The device tensors of one fixed-shape decode step over cache slots 0..B-1
// (CausalLM::static_decode_logits): fixed shapes and addresses, which a CUDA
// graph captures and the caller refills before each replay (rollout/decode_graph.h).
struct StaticDecodeInputs {
  torch::Tensor tokens;     // [B,1] int64: slot b's newest token (anything for an idle slot)
  torch::Tensor positions;  // [B,1] int64: its RoPE position
  torch::Tensor starts;     // [B] int64: where slot b writes its key/value (its cache length), < max_len
  torch::Tensor inv_freq;   // the RoPE inverse frequencies, already on the model's device
};

class CausalLM : public torch::nn::Module {
 public:
  // Random initialisation (normal(0, initializer_range), norms 1, biases 0) with `seed`.
  static std::shared_ptr<CausalLM> create(const ModelConfig& config, uint64_t seed = 0, bool with_mtp = false);
  // Loads a Hugging Face checkpoint directory (config.json + model.safetensors
  // or model.safetensors.index.json). Throws grpo::Error listing every
  // missing / unexpected / mis-shaped tensor.
  static std::shared_ptr<CausalLM> load(const std::string& dir, const LoadOptions& options = {});
  // A model holding `tensors` (Hugging Face names, any floating dtype), e.g.
  // converted from another format; `origin` names their source in the same
  // error as load().
  static std::shared_ptr<CausalLM> from_tensors(const ModelConfig& config, const std::map<std::string, torch::Tensor>& tensors,
                                                const LoadOptions& options, const std::string& origin);
  // Writes config.json, generation_config.json and safetensors (HF layout,
  // loadable by transformers). fp32 save → load is bit-exact.
  void save_hf(const std::string& dir, const SaveOptions& options = {}) const;
  // Independent deep copy (same device/dtype).
  std::shared_ptr<CausalLM> clone_model() const;

  explicit CausalLM(const ModelConfig& config, bool with_mtp = false);
  const ModelConfig& config() const { return config_; }
  bool has_mtp() const { return has_mtp_; }

  // logits [B,T,V] fp32.
  //  tokens     [B,T] int64
  //  positions  [B,T] int64 absolute positions (see positions_from_mask)
  //  cache      nullptr = no cache (full causal attention among the T tokens)
  //  attention_mask [B,T] (1 = real token, 0 = padding). Without cache: any
  //             padding (left or right); padded keys are never attended.
  //             With cache: rows must be right-padded; each slot advances by
  //             its number of real tokens.
  //  slots      with cache: the cache slot of each batch row (default 0..B-1).
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache = nullptr,
                        const torch::Tensor& attention_mask = {}, const std::vector<int64_t>& slots = {});

  // Logits [B,V] fp32 of each row's last real token only (the last position,
  // or the last 1 of a right-padded attention_mask); same arguments as
  // forward. For prefill: the [B,T,V] logits of every position are never formed.
  torch::Tensor last_logits(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache = nullptr,
                            const torch::Tensor& attention_mask = {}, const std::vector<int64_t>& slots = {});

  // Final hidden states after model.norm [B,T,D] (same arguments as forward).
  torch::Tensor hidden_states(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache = nullptr,
                              const torch::Tensor& attention_mask = {}, const std::vector<int64_t>& slots = {});
  torch::Tensor lm_head_weight() const;

  // Fixed-shape decode (CUDA graphs; rollout/decode_graph.h). Buffers of a
  // B-row step, zeroed, on the model's device.
  StaticDecodeInputs static_decode_inputs(int64_t B) const;
  // Logits [B,V] fp32 of one token for each cache slot 0..B-1: writes its
  // key/value at starts[b] and attends keys [0, starts[b]] of the whole
  // max_len (the rest masked), reading nothing on the host, so the step is
  // capturable when the MoE layers run grouped (policies/moe_dispatch.h).
  // Equals forward() on those rows; the cache's lengths are not advanced.
  torch::Tensor static_decode_logits(const StaticDecodeInputs& in, KvCache& cache);

  // Training path. log p(targets[b,t] | tokens[b,:t+1]) under logits/temperature.
  //  tokens, targets, mask: [B,T]; mask (0/1) marks padding of the input
  //  (attention) AND which positions are scored. Positions are derived from
  //  the mask (left or right padding both work). `chunk` = positions (rows of
  //  B·T) per log-softmax chunk. Differentiable w.r.t. all parameters.
  //  score_mask (token_scores; [B,T], nonzero = scored): when given, only those
  //  positions go through lm_head and the log-softmax (e.g. the completion
  //  tokens of GRPO, as TRL's logits_to_keep); the others are 0.
  torch::Tensor token_logprobs(const torch::Tensor& tokens, const torch::Tensor& targets, const torch::Tensor& mask,
                               double temperature = 1.0, int64_t chunk = 1024);
  TokenScores token_scores(const torch::Tensor& tokens, const torch::Tensor& targets, const torch::Tensor& mask,
                           double temperature = 1.0, int64_t chunk = 1024, bool with_entropy = true,
                           const torch::Tensor& score_mask = {});

  // Multi-token prediction (when loaded with MTP): logits [B,T,V] predicting
  // token t+2 from the main model's final hidden state at t and the embedding
  // of `next_tokens` (= tokens shifted left by one). mtp_loss: mean CE over
  // mask of those predictions (mask [B,T] 0/1 marks valid t+2 targets).
  torch::Tensor mtp_logits(const torch::Tensor& hidden, const torch::Tensor& next_tokens, const torch::Tensor& positions,
                           const torch::Tensor& attention_mask = {});
  torch::Tensor mtp_loss(const torch::Tensor& tokens, const torch::Tensor& mask);

  // --- MoE load balancing (no-op on dense models) ---
  // Tokens routed to each expert, per MoE layer, accumulated over forwards in
  // training mode (is_training()) since the last reset. [num_moe_layers][E] int64.
  std::vector<torch::Tensor> expert_load_counts() const;
  std::vector<int64_t> moe_layer_indices() const;
  void reset_expert_load_counts();
  // Aux-loss-free balancing (DeepSeek-V3 §2.1.2): bias_i += gamma·sign(mean(load)-load_i)
  // per MoE layer from the accumulated counts, then resets the counts.
  void update_routing_bias(double gamma);
  // Optional sequence-wise balance loss: when alpha > 0, each training forward
  // computes alpha·Σ_i f_i·P_i per sequence (mean over sequences, summed over
  // MoE layers); balance_loss() returns the last one (0-dim, differentiable).
  void set_sequence_balance_alpha(double alpha) { seq_balance_alpha_ = alpha; }
  torch::Tensor balance_loss() const { return balance_loss_; }

  // Gradient checkpointing of the decoder layers: in a forward with grad
  // enabled and no cache, each layer keeps only its input and is run again in
  // backward (one more forward of compute for activations of one layer at a
  // time). Values, gradients, expert loads and the balance loss are unchanged.
  void set_gradient_checkpointing(bool on) { gradient_checkpointing_ = on; }
  bool gradient_checkpointing() const { return gradient_checkpointing_; }

  // Every checkpoint tensor (parameters + persistent buffers) by HF name.
  std::vector<std::pair<std::string, torch::Tensor>> checkpoint_tensors() const;

 // With a cache, MLA uses the weight-absorbed attention (default). false =
  // expand the cached latent through kv_b_proj (the naive form; for tests).
  void set_mla_absorbed(bool absorbed) { mla_absorbed_ = absorbed; }

  // Forwards with a KV cache on the CPU in fp32, in eval mode and without grad
  // (the rollout engine's prefill and decode) multiply the linear weights of
  // at least min_weight_elements elements through oneDNN, on the parameters
  // themselves (detail::onednn_linear: faster at decode shapes, no copy);
  // < 0 (the default): ATen's linear everywhere. No effect where this
  // LibTorch lacks oneDNN's linear op.
  void set_onednn_linear(int64_t min_weight_elements) { onednn_min_elements_ = min_weight_elements; }
  // Whether forward() runs a decode step of `rows` rows (one token each, no
  // mask) on `cache` as one parallel region (detail::cpu_decode_step, same
  // logits bit for bit): a dense GQA model on the CPU in fp32 whose products
  // set_onednn_linear covers, at most detail::kFewRowsMax rows, in eval mode
  // without grad.
  bool fuses_cpu_decode(KvCache& cache, int64_t rows);

 private:
  // last_layer_from > 0: the last layer's outputs only at positions >= it
  // (ForwardContext::query_start), so the result is [B, T - last_layer_from, D].
  torch::Tensor run_layers(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache,
                           const torch::Tensor& attention_mask, const std::vector<int64_t>& slots,
                           int64_t last_layer_from = 0);
  // Whether run_layers can narrow the last layer (a GQA layer with a dense MLP).
  bool last_layer_narrows() const;
  torch::Tensor head(const torch::Tensor& h, detail::OnednnLinear fast);  // lm_head (or tied embeddings) → fp32 logits
  // forward's logits [B,1,V] through detail::cpu_decode_step (one parallel
  // region) where it applies: one token per row, a cache, no mask, the
  // engine's products. Else undefined (the layers run one by one).
  torch::Tensor cpu_decode_logits(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache,
                                  const torch::Tensor& attention_mask, const std::vector<int64_t>& slots);
  detail::OnednnLinear onednn_for(const KvCache* cache) const;  // the oneDNN products this forward may use
  // The rotary tables cos, sin [..., rot/2] (amplitude applied) of `positions`
  // [...] against inv_freq on its device: one expression for every forward,
  // so the decode paths rotate exactly as the layer path does.
  std::pair<torch::Tensor, torch::Tensor> rope_tables(const torch::Tensor& positions, const torch::Tensor& inv_freq) const;
  detail::ForwardContext make_context(const torch::Tensor& positions, int64_t T, KvCache* cache,
                                      const torch::Tensor& attention_mask, const std::vector<int64_t>& slots);

  ModelConfig config_;
  detail::Backbone model_{nullptr};  // "model": embed_tokens, layers, norm
  torch::nn::Linear lm_head_{nullptr};  // null when tied
  torch::Tensor inv_freq_;
  double rope_amplitude_ = 1.0;
  bool mla_absorbed_ = true;
  bool has_mtp_ = false;
  double seq_balance_alpha_ = 0.0;
  bool gradient_checkpointing_ = false;
  torch::Tensor balance_loss_;
  int64_t onednn_min_elements_ = -1;  // set_onednn_linear
};

// HF-style positions for a padded batch: cumsum(mask) - 1, clamped at 0.
torch::Tensor positions_from_mask(const torch::Tensor& attention_mask);

}  // namespace grpo::policies
