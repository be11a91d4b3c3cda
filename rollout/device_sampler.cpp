// device_sampler.cpp: see device_sampler.h. Every per-row parameter goes to
// the device in one [N, 6] float64 tensor; nothing reads back before the end.
#include "rollout/device_sampler.h"

#include "core/error.h"

namespace grpo::rollout {

namespace {

// Columns of the per-row parameter tensor.
enum Column { kTemperature, kUniform, kTopK, kTopP, kMinP, kRandom, kColumns };

torch::Tensor row_parameters(const std::vector<RowSampling>& rows, int64_t vocab, const torch::Device& device) {
  std::vector<double> flat;
  flat.reserve(rows.size() * kColumns);
  for (const RowSampling& r : rows) {
    flat.push_back(r.temperature > 0 ? r.temperature : 1.0);
    flat.push_back(uniform_for(r.seed, r.step));
    flat.push_back(static_cast<double>(r.top_k > 0 ? std::min<int64_t>(r.top_k, vocab) : vocab));
    flat.push_back(r.top_p >= 1.0 ? 2.0 : r.top_p);  // 1 = off, immune to rounding of the cumsum (as sampler.cpp)
    flat.push_back(r.min_p);
    flat.push_back(r.temperature > 0 ? 1.0 : 0.0);
  }
  return torch::tensor(flat, torch::kFloat64).view({static_cast<int64_t>(rows.size()), kColumns}).to(device);
}

// Inverse-CDF draw of one index per row from unnormalised weights [N, V]
// (float64): the first index whose cumulative weight exceeds u * total, which
// always has weight > 0, except when rounding puts the target at the very
// top: then the last index with weight (sampler.cpp steps back to it).
torch::Tensor draw_on_device(const torch::Tensor& weights, const torch::Tensor& uniforms) {
  const int64_t v = weights.size(1);
  auto cdf = torch::cumsum(weights, 1);
  auto target = uniforms.unsqueeze(1) * cdf.narrow(1, v - 1, 1);
  auto idx = torch::searchsorted(cdf, target, /*out_int32=*/false, /*right=*/true).squeeze(1);
  auto positions = torch::arange(v, weights.options().dtype(torch::kLong)).unsqueeze(0);
  auto last_with_weight = torch::where(weights > 0, positions, torch::zeros_like(positions)).amax(1);
  return torch::minimum(idx, last_with_weight);
}

// Keep-mask over tokens sorted by descending probability, [N, V] bool, from
// the parameter columns: rank < k, mass ranked above < top_p, p >= min_p * p_max; rank 0 always.
torch::Tensor keep_mask_sorted_on_device(const torch::Tensor& sorted_probs, const torch::Tensor& params) {
  const int64_t v = sorted_probs.size(1);
  auto rank = torch::arange(v, sorted_probs.options().dtype(torch::kLong)).unsqueeze(0);
  auto before = torch::cumsum(sorted_probs, 1) - sorted_probs;
  auto k = params.select(1, kTopK).to(torch::kLong).unsqueeze(1);
  auto top_p = params.select(1, kTopP).unsqueeze(1);
  auto min_p = params.select(1, kMinP).unsqueeze(1);
  auto keep = (rank < k) & (before < top_p) & (sorted_probs >= min_p * sorted_probs.narrow(1, 0, 1));
  keep.narrow(1, 0, 1).fill_(true);
  return keep;
}

bool any_filter(const std::vector<RowSampling>& rows) {
  for (const RowSampling& r : rows)
    if (r.temperature > 0 && (r.top_k > 0 || r.top_p < 1.0 || r.min_p > 0.0)) return true;
  return false;
}

}  // namespace

SampledTokens sample_tokens_on_device(const torch::Tensor& logits, const std::vector<RowSampling>& rows) {
  torch::NoGradGuard no_grad;
  if (logits.dim() != 2 || logits.size(0) != static_cast<int64_t>(rows.size()))
    throw Error("sample_tokens_on_device: logits must be [N, V] with N = rows (" + std::to_string(rows.size()) + "), got " +
                std::to_string(logits.dim()) + "-d tensor");
  const torch::Tensor params = row_parameters(rows, logits.size(1), logits.device());  // [N, 6] float64
  auto temperature = params.select(1, kTemperature).to(torch::kFloat32).unsqueeze(1);
  auto logp = torch::log_softmax(logits.to(torch::kFloat32) / temperature, 1);  // [N, V]
  auto tokens = logp.argmax(1);
  bool random = false;
  for (const RowSampling& r : rows) random = random || r.temperature > 0;
  if (random) {
    auto uniforms = params.select(1, kUniform);
    torch::Tensor sampled;
    if (any_filter(rows)) {
      auto sorted = logp.to(torch::kFloat64).sort(1, /*descending=*/true);
      auto sorted_probs = std::get<0>(sorted).exp();
      auto weights = sorted_probs * keep_mask_sorted_on_device(sorted_probs, params);
      sampled = std::get<1>(sorted).gather(1, draw_on_device(weights, uniforms).unsqueeze(1)).squeeze(1);
    } else {
      sampled = draw_on_device(logp.exp().to(torch::kFloat64), uniforms);  // exp in float32, as sampler.cpp
    }
    tokens = torch::where(params.select(1, kRandom) > 0, sampled, tokens);
  }
  auto chosen = logp.gather(1, tokens.unsqueeze(1)).squeeze(1);
  return SampledTokens{tokens.cpu(), chosen.cpu()};
}

}  // namespace grpo::rollout
