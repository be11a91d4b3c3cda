// causal_lm.cpp: CausalLM construction, forward (with and without a KV
// cache), MTP and the MoE load-balancing hooks.
#include "policies/causal_lm.h"

#include <tuple>

#include "core/error.h"
#include "policies/block_checkpoint.h"
#include "policies/cpu_decode_step.h"
#include "policies/embedding_lookup.h"

namespace grpo::policies {

torch::Tensor positions_from_mask(const torch::Tensor& attention_mask) {
  return (attention_mask.to(torch::kLong).cumsum(-1) - 1).clamp_min(0);
}

namespace {

// The cache slot of each of B rows: `slots`, or 0..B-1 when none are given.
std::vector<int64_t> cache_rows(const std::vector<int64_t>& slots, int64_t B) {
  std::vector<int64_t> rows = slots;
  if (rows.empty())
    for (int64_t b = 0; b < B; ++b) rows.push_back(b);
  if (static_cast<int64_t>(rows.size()) != B)
    throw Error("CausalLM::forward: " + std::to_string(rows.size()) + " cache slots for a batch of " + std::to_string(B) + " rows");
  return rows;
}

}  // namespace

CausalLM::CausalLM(const ModelConfig& config, bool with_mtp) : config_(config) {
  config_.validate("model config");
  has_mtp_ = with_mtp && config_.num_nextn_predict_layers > 0;
  model_ = register_module("model", detail::Backbone(config_, has_mtp_));
  if (!config_.tie_word_embeddings)
    lm_head_ = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(config_.hidden_size, config_.vocab_size).bias(false)));
  auto [inv, amp] = detail::rope_inv_freq(config_);
  inv_freq_ = inv;  // fp32 on CPU; not a buffer, so .to(bf16) cannot round it
  rope_amplitude_ = amp;
}

std::shared_ptr<CausalLM> CausalLM::create(const ModelConfig& config, uint64_t seed, bool with_mtp) {
  auto m = std::make_shared<CausalLM>(config, with_mtp);
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double std = config.initializer_range;
  for (auto& item : m->named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    bool is_norm = name.find("norm.weight") != std::string::npos || name.find("layernorm.weight") != std::string::npos;
    bool is_bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    if (is_norm) p.fill_(1.0);
    else if (is_bias) p.zero_();
    else p.copy_(at::normal(0.0, std, p.sizes(), gen));
  }
  // The MTP block shares embedding and head values with the main model.
  if (m->has_mtp()) {
    for (int64_t l = config.num_hidden_layers; l < static_cast<int64_t>(m->model_->layer_list.size()); ++l) {
      auto& layer = m->model_->layer_list[l];
      layer->embed_tokens->weight.copy_(m->model_->embed_tokens->weight);
      layer->head->weight.copy_(m->lm_head_weight());
    }
  }
  return m;
}

std::shared_ptr<CausalLM> CausalLM::clone_model() const {
  auto m = std::make_shared<CausalLM>(config_, has_mtp_);
  torch::NoGradGuard no_grad;
  auto src_params = named_parameters();
  auto src_buffers = named_buffers();
  torch::Tensor any = src_params.begin()->value();
  m->to(any.device(), any.scalar_type());
  for (auto& item : m->named_parameters()) item.value().copy_(src_params[item.key()]);
  for (auto& item : m->named_buffers()) item.value().set_data(src_buffers[item.key()].clone());
  m->mla_absorbed_ = mla_absorbed_;
  m->seq_balance_alpha_ = seq_balance_alpha_;
  m->gradient_checkpointing_ = gradient_checkpointing_;
  m->onednn_min_elements_ = onednn_min_elements_;
  m->train(is_training());
  return m;
}

torch::Tensor CausalLM::lm_head_weight() const {
  return lm_head_ ? lm_head_->weight : model_->embed_tokens->weight;
}

std::pair<torch::Tensor, torch::Tensor> CausalLM::rope_tables(const torch::Tensor& positions, const torch::Tensor& inv_freq) const {
  const torch::Tensor angles = positions.to(inv_freq.device(), torch::kFloat).unsqueeze(-1) * inv_freq;
  return {angles.cos() * rope_amplitude_, angles.sin() * rope_amplitude_};
}

detail::ForwardContext CausalLM::make_context(const torch::Tensor& positions, int64_t T, KvCache* cache,
                                              const torch::Tensor& mask, const std::vector<int64_t>& slots_in) {
  detail::ForwardContext ctx;
  const int64_t B = positions.size(0);
  const torch::Device dev = model_->embed_tokens->weight.device();
  std::tie(ctx.cos, ctx.sin) = rope_tables(positions, inv_freq_.to(dev));  // [B,T,rot/2]
  ctx.mla_absorbed = mla_absorbed_;
  ctx.balance_alpha = is_training() ? seq_balance_alpha_ : 0.0;
  if (mask.defined()) ctx.token_mask = mask.to(dev).to(torch::kBool);
  if (!cache) {
    ctx.key_len = T;
    torch::Tensor causal = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(dev)).tril();
    ctx.allowed = causal.view({1, 1, T, T});
    if (mask.defined()) ctx.allowed = ctx.allowed.logical_and(ctx.token_mask.view({B, 1, 1, T}));
    else ctx.allowed = ctx.allowed.expand({B, 1, T, T});
    // GQA runs SDPA: causal alone when no token is padding (its kernel skips the
    // future blocks), else `allowed`. A query before a row's first token (left
    // padding) sees no key; SDPA would give NaN there, so such rows see every
    // key: a finite value no real position reads (masked_softmax made it uniform).
    if (!config_.is_mla() && mask.defined() && !ctx.token_mask.all().item<bool>())
      ctx.dense_mask = ctx.allowed.logical_or(ctx.allowed.any(-1, true).logical_not());
    return ctx;
  }
  ctx.cache = cache;
  ctx.slots = cache_rows(slots_in, B);
  cache->check_capacity(ctx.slots, T);
  int64_t max_start = 0;
  for (int64_t s : ctx.slots) {
    ctx.starts.push_back(cache->length(s));
    max_start = std::max(max_start, cache->length(s));
  }
  ctx.key_len = max_start + T;
  ctx.slot_index = torch::tensor(ctx.slots, torch::kLong).to(dev);
  ctx.start_index = torch::tensor(ctx.starts, torch::kLong).to(dev);
  bool consecutive = true, same_start = true;
  for (int64_t b = 1; b < B; ++b) {
    consecutive = consecutive && ctx.slots[b] == ctx.slots[b - 1] + 1;
    same_start = same_start && ctx.starts[b] == ctx.starts[0];
  }
  if (consecutive) ctx.first_slot = ctx.slots[0];
  torch::Tensor starts = ctx.start_index.view({B, 1, 1, 1});
  torch::Tensor i = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(dev)).view({1, 1, T, 1});
  torch::Tensor j = torch::arange(ctx.key_len, torch::TensorOptions().dtype(torch::kLong).device(dev)).view({1, 1, 1, ctx.key_len});
  ctx.allowed = j <= (starts + i);  // [B,1,T,Tk]; right padding makes padded keys unreachable for real queries
  if (!config_.is_mla()) {
    // One decode token per row sees every key up to its own length: no mask
    // when all rows are equally long, else `allowed` broadcast over the G query
    // rows. Several tokens: `allowed` repeated for each of the G heads.
    const int64_t G = config_.num_attention_heads / config_.num_key_value_heads;
    if (T > 1) ctx.grouped_mask = ctx.allowed.unsqueeze(2).expand({B, 1, G, T, ctx.key_len}).reshape({B, 1, G * T, ctx.key_len});
    else if (!same_start) ctx.grouped_mask = ctx.allowed;
  }
  return ctx;
}

torch::Tensor CausalLM::run_layers(const torch::Tensor& tokens, const torch::Tensor& positions_in, KvCache* cache,
                                   const torch::Tensor& mask, const std::vector<int64_t>& slots, int64_t last_layer_from) {
  if (tokens.dim() != 2) throw Error("CausalLM::forward: tokens must be [B,T] int64, got " + std::to_string(tokens.dim()) + " dims");
  const int64_t B = tokens.size(0), T = tokens.size(1);
  if (last_layer_from > 0 && (cache || !last_layer_narrows() || last_layer_from >= T))
    throw Error("CausalLM: the last layer narrows to positions >= " + std::to_string(last_layer_from) +
                " only without a cache, for a GQA layer with a dense MLP, and below T = " + std::to_string(T));
  const torch::Device dev = model_->embed_tokens->weight.device();
  torch::Tensor positions = positions_in;
  if (!positions.defined()) {
    if (cache) {
      std::vector<int64_t> starts;
      for (int64_t x : cache_rows(slots, B)) starts.push_back(cache->length(x));
      positions = torch::tensor(starts, torch::kLong).view({B, 1}) + torch::arange(T, torch::kLong).view({1, T});
    } else if (mask.defined()) {
      positions = positions_from_mask(mask);
    } else {
      positions = torch::arange(T, torch::kLong).view({1, T}).expand({B, T});
    }
  }
  detail::ForwardContext ctx = make_context(positions, T, cache, mask, slots);
  ctx.onednn = onednn_for(cache);
  torch::Tensor x = detail::embedding_lookup(model_->embed_tokens->weight, tokens.to(dev));  // training: rows added into .grad
  const bool checkpoint = gradient_checkpointing_ && !cache && at::GradMode::is_enabled();
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    if (l == config_.num_hidden_layers - 1) ctx.query_start = last_layer_from;
    x = checkpoint ? detail::checkpointed_layer(model_->layer_list[l], x, ctx) : model_->layer_list[l](x, ctx);
  }
  if (cache) {
    std::vector<int64_t> fresh(B, T);
    if (mask.defined()) {
      torch::Tensor n = mask.to(torch::kLong).sum(1).to(torch::kCPU);
      for (int64_t b = 0; b < B; ++b) fresh[b] = n[b].item<int64_t>();
    }
    cache->advance(ctx.slots, fresh);
  }
  if (ctx.balance_alpha > 0) balance_loss_ = ctx.balance_loss;
  return model_->norm(x);
}

bool CausalLM::last_layer_narrows() const {
  return !config_.is_mla() && !config_.is_moe_layer(config_.num_hidden_layers - 1);
}

torch::Tensor CausalLM::hidden_states(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache,
                                      const torch::Tensor& attention_mask, const std::vector<int64_t>& slots) {
  return run_layers(tokens, positions, cache, attention_mask, slots);
}

torch::Tensor CausalLM::head(const torch::Tensor& h, detail::OnednnLinear fast) {
  torch::Tensor logits = fast.covers(lm_head_weight()) ? detail::inference_linear(h, lm_head_weight(), {})
                         : lm_head_ ? lm_head_(h)
                                    : torch::matmul(h, model_->embed_tokens->weight.t());
  return logits.to(torch::kFloat);
}

detail::OnednnLinear CausalLM::onednn_for(const KvCache* cache) const {
  if (onednn_min_elements_ < 0 || !cache || is_training() || torch::GradMode::is_enabled() || !detail::onednn_linear_available())
    return {};
  const torch::Tensor& w = model_->embed_tokens->weight;
  if (!w.device().is_cpu() || w.scalar_type() != torch::kFloat) return {};
  return {onednn_min_elements_};
}

bool CausalLM::fuses_cpu_decode(KvCache& cache, int64_t rows) {
  return detail::cpu_decode_layers(config_, *model_, lm_head_weight(), onednn_for(&cache), cache, rows).has_value();
}

torch::Tensor CausalLM::cpu_decode_logits(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache,
                                          const torch::Tensor& attention_mask, const std::vector<int64_t>& slots) {
  if (!cache || attention_mask.defined() || tokens.dim() != 2 || tokens.size(1) != 1) return {};
  const int64_t B = tokens.size(0);
  const auto layers = detail::cpu_decode_layers(config_, *model_, lm_head_weight(), onednn_for(cache), *cache, B);
  if (!layers) return {};
  const std::vector<int64_t> rows = cache_rows(slots, B);
  cache->check_capacity(rows, 1);
  std::vector<int64_t> starts;
  for (int64_t s : rows) starts.push_back(cache->length(s));
  auto [cos, sin] = rope_tables(positions.defined() ? positions : torch::tensor(starts, torch::kLong).view({B, 1}), inv_freq_);
  const torch::Tensor ids = tokens.to(torch::kCPU, torch::kLong).contiguous();
  const std::vector<int64_t> token_ids(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + B);
  torch::Tensor logits =
      detail::cpu_decode_step(config_, *model_, *layers, lm_head_weight(), token_ids, cos.view({B, -1}), sin.view({B, -1}), *cache, rows, starts);
  cache->advance(rows, std::vector<int64_t>(static_cast<size_t>(B), 1));
  return logits.unsqueeze(1);
}

torch::Tensor CausalLM::forward(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache,
                                const torch::Tensor& attention_mask, const std::vector<int64_t>& slots) {
  if (torch::Tensor logits = cpu_decode_logits(tokens, positions, cache, attention_mask, slots); logits.defined()) return logits;
  return head(run_layers(tokens, positions, cache, attention_mask, slots), onednn_for(cache));
}

torch::Tensor CausalLM::last_logits(const torch::Tensor& tokens, const torch::Tensor& positions, KvCache* cache,
                                    const torch::Tensor& attention_mask, const std::vector<int64_t>& slots) {
  torch::Tensor h = run_layers(tokens, positions, cache, attention_mask, slots);  // [B,T,D]
  const int64_t B = h.size(0), T = h.size(1);
  torch::Tensor last = attention_mask.defined() ? attention_mask.to(h.device(), torch::kLong).sum(1).sub(1).clamp_min(0)
                                                : torch::full({B}, T - 1, torch::TensorOptions().dtype(torch::kLong).device(h.device()));
  return head(h.gather(1, last.view({B, 1, 1}).expand({B, 1, h.size(2)})).squeeze(1), onednn_for(cache));
}

// ---------------------------------------------------------------- MTP
torch::Tensor CausalLM::mtp_logits(const torch::Tensor& hidden, const torch::Tensor& next_tokens, const torch::Tensor& positions,
                                   const torch::Tensor& attention_mask) {
  if (!has_mtp_) throw Error("CausalLM::mtp_logits: the model has no MTP module (load with with_mtp and a checkpoint with num_nextn_predict_layers > 0)");
  auto& layer = model_->layer_list[config_.num_hidden_layers];
  const int64_t B = next_tokens.size(0), T = next_tokens.size(1);
  torch::Tensor pos = positions.defined() ? positions
                                          : (attention_mask.defined() ? positions_from_mask(attention_mask)
                                                                      : torch::arange(T, torch::kLong).view({1, T}).expand({B, T}));
  detail::ForwardContext ctx = make_context(pos, T, nullptr, attention_mask, {});
  // [enorm(embedding), hnorm(hidden)]: embedding half first (vLLM/SGLang order).
  torch::Tensor e = layer->enorm(layer->embed_tokens(next_tokens.to(model_->embed_tokens->weight.device())));
  torch::Tensor x = layer->eh_proj(torch::cat({e, layer->hnorm(hidden)}, -1));
  x = layer->forward(x, ctx);
  return layer->head(layer->head_norm(x)).to(torch::kFloat);
}

torch::Tensor CausalLM::mtp_loss(const torch::Tensor& tokens, const torch::Tensor& mask) {
  const int64_t B = tokens.size(0), T = tokens.size(1);
  if (T < 3) return torch::zeros({}, torch::kFloat);
  torch::Tensor h = hidden_states(tokens, positions_from_mask(mask), nullptr, mask);
  torch::Tensor zeros = torch::zeros({B, 1}, tokens.options());
  torch::Tensor next = torch::cat({tokens.narrow(1, 1, T - 1), zeros}, 1);
  torch::Tensor target = torch::cat({tokens.narrow(1, 2, T - 2), zeros, zeros}, 1);
  torch::Tensor m = mask.to(torch::kFloat);
  torch::Tensor zf = torch::zeros({B, 1}, m.options());
  torch::Tensor valid = m * torch::cat({m.narrow(1, 1, T - 1), zf}, 1) * torch::cat({m.narrow(1, 2, T - 2), zf, zf}, 1);
  torch::Tensor logits = mtp_logits(h, next, positions_from_mask(mask), mask);
  torch::Tensor logp = logits.log_softmax(-1).gather(-1, target.unsqueeze(-1).to(logits.device())).squeeze(-1);
  valid = valid.to(logp.device());
  return -(logp * valid).sum() / valid.sum().clamp_min(1.0);
}

// ---------------------------------------------------------------- load balancing
std::vector<int64_t> CausalLM::moe_layer_indices() const {
  std::vector<int64_t> out;
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l)
    if (config_.is_moe_layer(l)) out.push_back(l);
  return out;
}

std::vector<torch::Tensor> CausalLM::expert_load_counts() const {
  std::vector<torch::Tensor> out;
  for (int64_t l : moe_layer_indices()) out.push_back(model_->layer_list[l]->moe->load_counts);
  return out;
}

void CausalLM::reset_expert_load_counts() {
  for (int64_t l : moe_layer_indices()) {
    auto& moe = model_->layer_list[l]->moe;
    moe->load_counts = torch::zeros_like(moe->load_counts);
  }
}

void CausalLM::update_routing_bias(double gamma) {
  torch::NoGradGuard no_grad;
  for (int64_t l : moe_layer_indices()) {
    auto& moe = model_->layer_list[l]->moe;
    torch::Tensor& bias = moe->gate->e_score_correction_bias;
    if (!bias.defined()) continue;  // softmax (V2) routers have no bias
    torch::Tensor load = moe->load_counts.to(bias.device(), torch::kFloat);
    // b_i += gamma * sign(mean(load) - load_i): overloaded experts become less attractive.
    bias.add_(gamma * torch::sign(load.mean() - load));
  }
  reset_expert_load_counts();
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLM::checkpoint_tensors() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters()) out.emplace_back(item.key(), item.value());
  for (const auto& item : named_buffers())
    if (item.key() != "rotary_inv_freq") out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace grpo::policies
