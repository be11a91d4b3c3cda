// fused_rms_norm, swiglu, fused_rope and the log-softmax row passes
// (policies/fused_rms_norm.h, fused_swiglu.h, fused_rope.h, log_softmax_rows.h): values and gradients against autograd of the plain formula in float64, for row sizes
// with and without a tail beyond the 8 lanes, non-contiguous inputs (columns of
// a wider tensor, a transposed view), enough rows to split over threads, and
// large gate values (the saturated exp); no graph kept under no_grad; other
// dtypes take ATen's expression, bit for bit.
#include <gtest/gtest.h>

#include "policies/fused_rms_norm.h"
#include "policies/fused_rope.h"
#include "policies/fused_swiglu.h"
#include "policies/log_softmax_rows.h"
#include "policies/model_layers.h"

namespace grpo::policies::detail {
namespace {

// max |a - b| over max(1, max |b|): fp32 rounding relative to the reference's scale.
double fused_relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor ref = b.to(torch::kDouble);
  return (a.to(torch::kDouble) - ref).abs().max().item<double>() / std::max(1.0, ref.abs().max().item<double>());
}

// HF's RMSNorm in float64: w · x · rsqrt(mean(x²) + eps).
torch::Tensor rms_norm_reference(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return w * (x * torch::rsqrt(x.pow(2).mean(-1, true) + eps));
}

// Forward, dx and dw of fused_rms_norm on x (fp32, any strides) against float64 autograd.
void expect_rms_norm_matches(const torch::Tensor& x_in) {
  const int64_t d = x_in.size(-1);
  const double eps = 1e-6;
  torch::Tensor w = (torch::rand({d}) + 0.5).requires_grad_(true);
  torch::Tensor x = x_in.detach().requires_grad_(true);
  torch::Tensor y = fused_rms_norm(x, w, eps);
  torch::Tensor upstream = torch::randn(y.sizes());
  (y * upstream).sum().backward();

  torch::Tensor x64 = x_in.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor w64 = w.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor y64 = rms_norm_reference(x64, w64, eps);
  (y64 * upstream.to(torch::kDouble)).sum().backward();

  ASSERT_EQ(y.sizes(), y64.sizes());
  EXPECT_LE(fused_relative_error(y, y64), 1e-6) << "forward, D = " << d;
  EXPECT_LE(fused_relative_error(x.grad(), x64.grad()), 1e-5) << "dx, D = " << d;
  EXPECT_LE(fused_relative_error(w.grad(), w64.grad()), 1e-5) << "dw, D = " << d;
}

TEST(FusedRmsNorm, MatchesFloat64AutogradWithLaneTail) { expect_rms_norm_matches(torch::randn({3, 5, 37}) * 3); }
TEST(FusedRmsNorm, MatchesFloat64AutogradOnModelWidth) { expect_rms_norm_matches(torch::randn({2, 9, 512})); }
TEST(FusedRmsNorm, ManyRowsSplitOverThreads) { expect_rms_norm_matches(torch::randn({4000, 13})); }
TEST(FusedRmsNorm, NonContiguousInputs) {
  expect_rms_norm_matches(torch::randn({4, 6, 40}).narrow(-1, 3, 29));  // the MLA latent: columns of a wider product
  expect_rms_norm_matches(torch::randn({21, 6}).t());                   // a transposed view
}

TEST(FusedRmsNorm, GradientOfTheWeightAloneAndOfTheInputAlone) {
  torch::Tensor x = torch::randn({5, 19}), w = torch::rand({19}) + 0.5;
  torch::Tensor x64 = x.to(torch::kDouble).requires_grad_(true), w64 = w.to(torch::kDouble).requires_grad_(true);
  rms_norm_reference(x64, w64, 1e-5).sum().backward();
  torch::Tensor wg = w.clone().requires_grad_(true);
  fused_rms_norm(x, wg, 1e-5).sum().backward();
  EXPECT_LE(fused_relative_error(wg.grad(), w64.grad()), 1e-5);
  torch::Tensor xg = x.clone().requires_grad_(true);
  fused_rms_norm(xg, w, 1e-5).sum().backward();
  EXPECT_LE(fused_relative_error(xg.grad(), x64.grad()), 1e-5);
}

TEST(FusedRmsNorm, NoGraphUnderNoGrad) {
  torch::Tensor x = torch::randn({3, 24}).requires_grad_(true), w = torch::rand({24}).requires_grad_(true);
  torch::Tensor with_grad = fused_rms_norm(x, w, 1e-6);
  torch::NoGradGuard no_grad;
  torch::Tensor y = fused_rms_norm(x, w, 1e-6);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_FALSE(y.grad_fn());
  EXPECT_TRUE(torch::equal(y, with_grad.detach()));
}

TEST(FusedRmsNorm, ModuleUsesItForFp32AndHfOrderOtherwise) {
  RMSNorm norm(24, 1e-6);
  torch::NoGradGuard no_grad;
  norm->weight.copy_(torch::rand({24}) + 0.5);
  torch::Tensor x = torch::randn({2, 3, 24});
  EXPECT_TRUE(torch::equal(norm(x), fused_rms_norm(x, norm->weight, 1e-6)));
  // bf16: HF's order (fp32 statistics, cast back, then times the weight), exactly as ATen computes it.
  norm->to(torch::kBFloat16);
  torch::Tensor xb = x.to(torch::kBFloat16);
  EXPECT_FALSE(fused_rms_norm_applies(xb, norm->weight));
  torch::Tensor x32 = xb.to(torch::kFloat);
  torch::Tensor expected = norm->weight * (x32 * torch::rsqrt(x32.pow(2).mean(-1, true) + 1e-6)).to(torch::kBFloat16);
  EXPECT_TRUE(torch::equal(norm(xb), expected));
}

// silu(gate) · up and its gradients against float64 autograd; gate and up as given (any strides).
void expect_swiglu_matches(const torch::Tensor& gate_in, const torch::Tensor& up_in) {
  torch::Tensor gate = gate_in.detach().requires_grad_(true), up = up_in.detach().requires_grad_(true);
  torch::Tensor h = swiglu(gate, up);
  torch::Tensor upstream = torch::randn(h.sizes());
  (h * upstream).sum().backward();

  torch::Tensor g64 = gate_in.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor u64 = up_in.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor h64 = torch::silu(g64) * u64;
  (h64 * upstream.to(torch::kDouble)).sum().backward();

  ASSERT_EQ(h.sizes(), h64.sizes());
  EXPECT_LE(fused_relative_error(h, h64), 1e-6) << "forward, I = " << gate.size(-1);
  EXPECT_LE(fused_relative_error(gate.grad(), g64.grad()), 1e-6) << "dgate, I = " << gate.size(-1);
  EXPECT_LE(fused_relative_error(up.grad(), u64.grad()), 1e-6) << "dup, I = " << gate.size(-1);
}

TEST(FusedSwiglu, MatchesFloat64AutogradWithLaneTail) {
  expect_swiglu_matches(torch::randn({4, 3, 45}) * 4, torch::randn({4, 3, 45}));
}
TEST(FusedSwiglu, ManyRowsSplitOverThreads) { expect_swiglu_matches(torch::randn({3000, 24}) * 3, torch::randn({3000, 24})); }

TEST(FusedSwiglu, ColumnsOfOneGateUpProduct) {
  torch::Tensor gate_up = torch::randn({2, 7, 2 * 33}) * 3;  // the engine's fused [.., 2I] product
  expect_swiglu_matches(gate_up.narrow(-1, 0, 33), gate_up.narrow(-1, 33, 33));
  torch::Tensor t = torch::randn({17, 10});  // and a transposed view
  expect_swiglu_matches(t.t(), torch::randn({10, 17}));
}

TEST(FusedSwiglu, LargeGatesSaturate) {
  torch::Tensor gate = torch::linspace(-120, 120, 97).view({1, 97});
  expect_swiglu_matches(gate, torch::randn({1, 97}));
}

TEST(FusedSwiglu, NoGraphUnderNoGradAndOtherDtypesTakeAten) {
  torch::Tensor gate = torch::randn({5, 16}).requires_grad_(true), up = torch::randn({5, 16}).requires_grad_(true);
  torch::Tensor with_grad = swiglu(gate, up);
  {
    torch::NoGradGuard no_grad;
    torch::Tensor h = swiglu(gate, up);
    EXPECT_FALSE(h.grad_fn());
    EXPECT_TRUE(torch::equal(h, with_grad.detach()));
  }
  torch::Tensor gb = gate.detach().to(torch::kBFloat16), ub = up.detach().to(torch::kBFloat16);
  EXPECT_FALSE(swiglu_fused_applies(gb, ub));
  EXPECT_TRUE(torch::equal(swiglu(gb, ub), torch::silu(gb) * ub));
}

// The row passes on scaled logits z [n, V] against float64 autograd of log_softmax: log p of the
// targets, lse, entropy, and dz for the loss Σ g·logp_t + Σ ge·H (ge undefined: no entropy term),
// divided by the temperature as token_logprobs' backward does.
void expect_log_softmax_rows_match(int64_t n, int64_t v, double spread, bool entropy_grad) {
  torch::manual_seed(v);
  const double temperature = 0.7;
  torch::Tensor z = torch::randn({n, v}) * spread;
  torch::Tensor targets = torch::randint(0, v, {n}, torch::kLong);
  torch::Tensor g = torch::randn({n}), ge = entropy_grad ? torch::randn({n}) : torch::Tensor();

  torch::Tensor z64 = z.to(torch::kDouble).requires_grad_(true);
  torch::Tensor logp64 = z64.log_softmax(-1);
  torch::Tensor ent64 = -(logp64.exp() * logp64).sum(-1);
  torch::Tensor loss = (logp64.gather(1, targets.unsqueeze(1)).squeeze(1) * g.to(torch::kDouble)).sum();
  if (entropy_grad) loss = loss + (ent64 * ge.to(torch::kDouble)).sum();
  loss.backward();

  torch::Tensor logp = z.clone(), lse = torch::empty({n}), ent = torch::empty({n});
  log_softmax_rows_(logp, lse, ent);
  EXPECT_LE(fused_relative_error(logp, logp64), 1e-6) << "log p, V = " << v;
  EXPECT_LE(fused_relative_error(lse, z64.logsumexp(-1)), 1e-6) << "lse, V = " << v;
  EXPECT_LE(fused_relative_error(ent, ent64), 1e-5) << "entropy, V = " << v;
  log_softmax_rows_backward_(logp, targets, g, ge, ent, temperature);
  EXPECT_LE(fused_relative_error(logp, z64.grad() / temperature), 1e-6) << "dz, V = " << v;
}

TEST(LogSoftmaxRows, MatchFloat64WithLaneTail) { expect_log_softmax_rows_match(9, 1001, 3.0, true); }
TEST(LogSoftmaxRows, PeakedLogitsWithoutEntropyGradient) { expect_log_softmax_rows_match(5, 4096, 25.0, false); }

TEST(LogSoftmaxRows, OtherChunksTakeAten) {
  EXPECT_FALSE(log_softmax_rows_applies(torch::randn({4, 8}, torch::kBFloat16)));
  EXPECT_FALSE(log_softmax_rows_applies(torch::randn({8, 4}).t()));
  EXPECT_TRUE(log_softmax_rows_applies(torch::randn({4, 8})));
}

// fused_rope on q as the GQA layer makes it (the [B, T, H, hd] product viewed as [B, H, T, hd])
// against ATen's rotate_half formula in float64, forward and dx.
void expect_rope_matches(int64_t heads, int64_t head_dim) {
  const int64_t B = 2, T = 5, half = head_dim / 2;
  torch::Tensor product = torch::randn({B, T, heads * head_dim}).requires_grad_(true);
  torch::Tensor angles = torch::rand({B, T, half}) * 6;
  torch::Tensor cos = angles.cos().unsqueeze(1), sin = angles.sin().unsqueeze(1);
  torch::Tensor q = product.view({B, T, heads, head_dim}).transpose(1, 2);
  ASSERT_TRUE(fused_rope_applies(q, cos, sin));
  torch::Tensor y = fused_rope(q, cos, sin);
  torch::Tensor upstream = torch::randn(y.sizes());
  (y * upstream).sum().backward();

  torch::Tensor p64 = product.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor q64 = p64.view({B, T, heads, head_dim}).transpose(1, 2);
  torch::Tensor c64 = cos.to(torch::kDouble), s64 = sin.to(torch::kDouble);
  torch::Tensor x1 = q64.narrow(-1, 0, half), x2 = q64.narrow(-1, half, half);
  torch::Tensor y64 = torch::cat({x1 * c64 - x2 * s64, x2 * c64 + x1 * s64}, -1);
  (y64 * upstream.to(torch::kDouble)).sum().backward();

  EXPECT_TRUE(y.is_contiguous());
  EXPECT_LE(fused_relative_error(y, y64), 1e-6) << heads << " heads of " << head_dim;
  EXPECT_LE(fused_relative_error(product.grad(), p64.grad()), 1e-6) << heads << " heads of " << head_dim;
}

TEST(FusedRope, MatchesFloat64OnTheTransposedProduct) { expect_rope_matches(4, 64); }
TEST(FusedRope, HalfDimWithLaneTailAndOneHead) {
  expect_rope_matches(3, 26);
  expect_rope_matches(1, 10);
}

TEST(FusedRope, NoGraphUnderNoGradAndOtherTensorsTakeAten) {
  torch::Tensor x = torch::randn({1, 2, 3, 8}).requires_grad_(true);
  torch::Tensor angles = torch::rand({1, 3, 4});
  torch::Tensor cos = angles.cos().unsqueeze(1), sin = angles.sin().unsqueeze(1);
  torch::Tensor with_grad = fused_rope(x, cos, sin);
  {
    torch::NoGradGuard no_grad;
    torch::Tensor y = fused_rope(x, cos, sin);
    EXPECT_FALSE(y.grad_fn());
    EXPECT_TRUE(torch::equal(y, with_grad.detach()));
  }
  EXPECT_FALSE(fused_rope_applies(x.to(torch::kBFloat16), cos, sin));
  EXPECT_FALSE(fused_rope_applies(x, cos.squeeze(1), sin.squeeze(1)));  // MLA's shared rope key [B, T, dr]
  // The interleaved (DeepSeek) layout keeps ATen's expression: pairs (2i, 2i+1), de-interleaved output.
  torch::NoGradGuard no_grad;
  torch::Tensor xi = torch::randn({1, 2, 3, 8});
  torch::Tensor e = xi.slice(-1, 0, 8, 2), o = xi.slice(-1, 1, 8, 2);
  EXPECT_TRUE(torch::allclose(apply_rope(xi, cos, sin, true), torch::cat({e * cos - o * sin, o * cos + e * sin}, -1)));
}

}  // namespace
}  // namespace grpo::policies::detail
