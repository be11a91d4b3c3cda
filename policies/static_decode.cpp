// static_decode.cpp: CausalLM::static_decode_inputs / static_decode_logits
// (causal_lm.h): make_context's cached decode with every host-dependent
// choice fixed: rows = slots 0..B-1 (the cache read in place), keys over the
// whole max_len, the attention mask built on the device from `starts`.
#include <numeric>
#include <tuple>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/kv_cache.h"
#include "policies/model_layers.h"

namespace grpo::policies {

StaticDecodeInputs CausalLM::static_decode_inputs(int64_t B) const {
  const torch::Device dev = model_->embed_tokens->weight.device();
  const auto longs = torch::TensorOptions().dtype(torch::kLong).device(dev);
  return {torch::zeros({B, 1}, longs), torch::zeros({B, 1}, longs), torch::zeros({B}, longs), inv_freq_.to(dev)};
}

torch::Tensor CausalLM::static_decode_logits(const StaticDecodeInputs& in, KvCache& cache) {
  const int64_t B = in.tokens.size(0), L = cache.max_len();
  if (B > cache.max_slots())
    throw Error("CausalLM::static_decode_logits: " + std::to_string(B) + " rows for a cache of " +
                std::to_string(cache.max_slots()) + " slots");
  const auto longs = torch::TensorOptions().dtype(torch::kLong).device(in.tokens.device());
  detail::ForwardContext ctx;
  std::tie(ctx.cos, ctx.sin) = rope_tables(in.positions, in.inv_freq);  // [B,1,rot/2]
  ctx.mla_absorbed = mla_absorbed_;
  ctx.cache = &cache;
  ctx.slots.resize(static_cast<size_t>(B));
  std::iota(ctx.slots.begin(), ctx.slots.end(), int64_t{0});
  ctx.first_slot = 0;
  ctx.slot_index = torch::arange(B, longs);
  ctx.start_index = in.starts;
  ctx.key_len = L;
  ctx.allowed = torch::arange(L, longs).view({1, 1, 1, L}) <= in.starts.view({B, 1, 1, 1});  // [B,1,1,L]
  if (!config_.is_mla()) ctx.grouped_mask = ctx.allowed;
  torch::Tensor x = model_->embed_tokens(in.tokens);
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) x = model_->layer_list[l](x, ctx);
  // lm_head has no bias: the logits are h · Wᵀ, as forward() (tied or not).
  return torch::matmul(model_->norm(x).select(1, 0), lm_head_weight().t()).to(torch::kFloat);
}

}  // namespace grpo::policies
