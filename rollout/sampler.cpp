#include "rollout/sampler.h"

#include <algorithm>

#include "core/error.h"
#include "rollout/device_sampler.h"
#include "rollout/unfiltered_sampler.h"

namespace grpo::rollout {

RowSampling row_sampling(const SamplingParams& params, uint64_t seed, int64_t step) {
  return RowSampling{params.temperature, params.top_k, params.top_p, params.min_p, seed, step};
}

double uniform_for(uint64_t seed, int64_t step) {
  uint64_t z = seed ^ (0xD1B54A32D192ED03ULL * static_cast<uint64_t>(step + 1));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);  // 53 bits
}

namespace {

bool filters(const RowSampling& r) { return r.top_k > 0 || r.top_p < 1.0 || r.min_p > 0.0; }

// Keep-mask over tokens sorted by descending probability, [N, V] bool.
// top-k: rank < k. top-p: the probability before the token is < top_p (so the
// token that crosses top_p is kept). min-p: p >= min_p * p_max. Rank 0 always.
torch::Tensor keep_mask_sorted(const torch::Tensor& sorted_probs, const std::vector<RowSampling>& rows) {
  int64_t n = sorted_probs.size(0), v = sorted_probs.size(1);
  std::vector<int64_t> ks(n);
  std::vector<double> ps(n), mins(n);
  for (int64_t i = 0; i < n; ++i) {
    ks[i] = rows[i].top_k > 0 ? std::min<int64_t>(rows[i].top_k, v) : v;
    ps[i] = rows[i].top_p >= 1.0 ? 2.0 : rows[i].top_p;  // 1 = off, immune to rounding of the cumsum
    mins[i] = rows[i].min_p;
  }
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto k = torch::tensor(ks, torch::kInt64).unsqueeze(1);
  auto top_p = torch::tensor(ps, opts).unsqueeze(1);
  auto min_p = torch::tensor(mins, opts).unsqueeze(1);
  auto rank = torch::arange(v, torch::kInt64).unsqueeze(0);
  auto before = torch::cumsum(sorted_probs, 1) - sorted_probs;  // probability mass ranked above
  auto keep = (rank < k) & (before < top_p) & (sorted_probs >= min_p * sorted_probs.narrow(1, 0, 1));
  keep.narrow(1, 0, 1).fill_(true);
  return keep;
}

// Inverse-CDF draw of one index per row from unnormalised weights [N, V] (float64).
torch::Tensor draw(const torch::Tensor& weights, const torch::Tensor& uniforms) {
  auto cdf = torch::cumsum(weights, 1);
  auto target = uniforms.unsqueeze(1) * cdf.narrow(1, cdf.size(1) - 1, 1);
  auto idx = torch::searchsorted(cdf, target, /*out_int32=*/false, /*right=*/true).squeeze(1);
  // Float rounding can put the target at the very top; step back to the last token with mass.
  idx.clamp_max_(weights.size(1) - 1);
  auto accessor = idx.accessor<int64_t, 1>();
  auto w = weights.accessor<double, 2>();
  for (int64_t i = 0; i < idx.size(0); ++i)
    while (accessor[i] > 0 && w[i][accessor[i]] <= 0) --accessor[i];
  return idx;
}

}  // namespace

SampledTokens sample_tokens(const torch::Tensor& logits, const std::vector<RowSampling>& rows) {
  torch::NoGradGuard no_grad;
  if (logits.dim() != 2 || logits.size(0) != static_cast<int64_t>(rows.size()))
    throw Error("sample_tokens: logits must be [N, V] with N = rows (" + std::to_string(rows.size()) + "), got " +
                std::to_string(logits.dim()) + "-d tensor");
  // On a GPU every step of the draw stays there (device_sampler.h).
  if (logits.is_cuda()) return sample_tokens_on_device(logits, rows);
  int64_t n = logits.size(0);
  std::vector<double> temps(n);
  std::vector<double> us(n);
  bool any_filter = false, any_random = false;
  for (int64_t i = 0; i < n; ++i) {
    temps[i] = rows[i].temperature > 0 ? rows[i].temperature : 1.0;
    us[i] = uniform_for(rows[i].seed, rows[i].step);
    if (rows[i].temperature > 0) {
      any_random = true;
      any_filter = any_filter || filters(rows[i]);
    }
  }
  // No filters: each row's log-softmax and draw in one kernel (unfiltered_sampler.h).
  if (!any_filter && logits.device().is_cpu())
    if (auto sampled = detail::sample_unfiltered_rows(logits.to(torch::kFloat32), rows, us)) return *sampled;
  // [N, V] float32 log-probs of the (temperature-scaled) full distribution, on
  // the logits' device. x / 1 == x exactly: no division when every row is at 1.
  bool all_at_one = std::all_of(temps.begin(), temps.end(), [](double t) { return t == 1.0; });
  auto logits32 = logits.to(torch::kFloat32);
  auto logp = torch::log_softmax(all_at_one ? logits32 : logits32 / torch::tensor(temps, torch::kFloat32).to(logits.device()).unsqueeze(1), 1);
  bool any_greedy = std::any_of(rows.begin(), rows.end(), [](const RowSampling& r) { return r.temperature <= 0; });
  torch::Tensor tokens = any_greedy ? logp.argmax(1).cpu() : torch::zeros({n}, torch::kInt64);
  if (any_random) {
    auto uniforms = torch::tensor(us, torch::kFloat64);
    torch::Tensor sampled;
    if (any_filter) {
      auto sorted = logp.to(torch::kFloat64).sort(1, /*descending=*/true);
      auto sorted_probs = std::get<0>(sorted).exp().cpu();
      auto order = std::get<1>(sorted).cpu();
      auto weights = sorted_probs * keep_mask_sorted(sorted_probs, rows);
      sampled = order.gather(1, draw(weights, uniforms).unsqueeze(1)).squeeze(1);
    } else {
      sampled = draw(logp.exp().to(torch::kFloat64), uniforms);  // rows with NaN/+inf logits; exp in float32, as device_sampler.cpp
    }
    auto t = tokens.accessor<int64_t, 1>();
    auto s = sampled.accessor<int64_t, 1>();
    for (int64_t i = 0; i < n; ++i)
      if (rows[i].temperature > 0) t[i] = s[i];
  }
  auto chosen = logp.gather(1, tokens.to(logp.device()).unsqueeze(1)).squeeze(1).cpu();
  return SampledTokens{tokens, chosen};
}

torch::Tensor filtered_distribution(const torch::Tensor& logits_row, const RowSampling& row) {
  torch::NoGradGuard no_grad;
  double t = row.temperature > 0 ? row.temperature : 1.0;
  auto probs = torch::softmax(logits_row.to(torch::kFloat64).cpu() / t, 0);
  if (row.temperature == 0) {
    auto out = torch::zeros_like(probs);
    out[probs.argmax().item<int64_t>()] = 1.0;
    return out;
  }
  auto sorted = probs.sort(0, /*descending=*/true);
  auto sp = std::get<0>(sorted).unsqueeze(0);
  auto keep = keep_mask_sorted(sp, {row}).squeeze(0);
  auto kept = torch::zeros_like(probs).scatter(0, std::get<1>(sorted), std::get<0>(sorted) * keep);
  return kept / kept.sum();
}

}  // namespace grpo::rollout
