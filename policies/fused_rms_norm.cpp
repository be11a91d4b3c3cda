// fused_rms_norm.cpp: the forward and backward row loops of fused_rms_norm and
// their autograd function.
#include "policies/fused_rms_norm.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "core/cpu_dispatch.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace grpo::policies::detail {

namespace {

// Rows per parallel task: about 32K floats each, so small inputs (decode) stay on one thread.
int64_t rms_norm_grain(int64_t d) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, d)); }

// y[r] = w · (x[r] · rstd[r]), rstd[r] = 1 / sqrt(Σ x[r]² / d + eps); rstd may be null (nothing kept).
struct RmsNormForwardRows {
  static GRPO_CPU_INLINE void run(const float* x, const float* w, float* y, float* rstd, int64_t d, float eps, int64_t begin,
                                  int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      const float rs = 1.0f / std::sqrt(cpu_lane_dot(xr, xr, d) / static_cast<float>(d) + eps);
      if (rstd) rstd[r] = rs;
      for (int64_t i = 0; i < d; ++i) yr[i] = w[i] * (xr[i] * rs);
    }
  }
};

// With g the output gradient and x̂ = x · rstd:
//   dx = rstd · (g·w) - x · rstd³ · Σ(g·w·x) / d   (dx null: not wanted)
//   dw_sum += g · x̂                                (dw_sum null: not wanted; one row per thread)
struct RmsNormBackwardRows {
  static GRPO_CPU_INLINE void run(const float* x, const float* w, const float* g, const float* rstd, float* dx, float* dw_sum,
                                  int64_t d, int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * d;
      const float* gr = g + r * d;
      const float rs = rstd[r];
      if (dx) {
        float lane[kCpuLanes] = {};
        int64_t i = 0;
        for (; i + kCpuLanes <= d; i += kCpuLanes)
          for (int64_t l = 0; l < kCpuLanes; ++l) lane[l] += gr[i + l] * w[i + l] * xr[i + l];
        float dot = 0;
        for (int64_t l = 0; l < kCpuLanes; ++l) dot += lane[l];
        for (; i < d; ++i) dot += gr[i] * w[i] * xr[i];
        const float c = rs * rs * rs * dot / static_cast<float>(d);
        float* dxr = dx + r * d;
        for (int64_t j = 0; j < d; ++j) dxr[j] = rs * (gr[j] * w[j]) - c * xr[j];
      }
      if (dw_sum)
        for (int64_t j = 0; j < d; ++j) dw_sum[j] += gr[j] * (xr[j] * rs);
    }
  }
};

// y and (when rstd is defined) rstd [rows] for x2 [rows, d] contiguous.
torch::Tensor rms_norm_forward(const torch::Tensor& x2, const torch::Tensor& weight, double eps, const torch::Tensor& rstd) {
  const int64_t rows = x2.size(0), d = x2.size(1);
  torch::Tensor y = torch::empty_like(x2);
  const float* x = x2.data_ptr<float>();
  const float* w = weight.data_ptr<float>();
  float* out = y.data_ptr<float>();
  float* rs = rstd.defined() ? rstd.data_ptr<float>() : nullptr;
  grpo::parallel_for(0, rows, rms_norm_grain(d), [&](int64_t begin, int64_t end) {
    cpu_dispatch<RmsNormForwardRows>(x, w, out, rs, d, static_cast<float>(eps), begin, end);
  });
  return y;
}

// Inputs: x [..., D], weight [D]. Saved: x as [rows, D] contiguous, weight, rstd [rows].
struct FusedRmsNormFunction : public torch::autograd::Function<FusedRmsNormFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               double eps) {
    const int64_t d = x.size(-1);
    torch::Tensor x2 = x.reshape({-1, d}).contiguous();
    torch::Tensor rstd = torch::empty({x2.size(0)}, x2.options());
    torch::Tensor y = rms_norm_forward(x2, weight.contiguous(), eps, rstd);
    ctx->save_for_backward({x2, weight, rstd});
    return y.view(x.sizes());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor x2 = saved[0], weight = saved[1].contiguous(), rstd = saved[2];
    const int64_t rows = x2.size(0), d = x2.size(1);
    const torch::Tensor g = grads[0].reshape({rows, d}).to(torch::kFloat).contiguous();
    const bool want_dx = ctx->needs_input_grad(0), want_dw = ctx->needs_input_grad(1);
    torch::Tensor dx = want_dx ? torch::empty_like(x2) : torch::Tensor();
    // One dw row per thread (at::get_thread_num() < at::get_num_threads()), summed after.
    torch::Tensor dw_rows = want_dw ? torch::zeros({at::get_num_threads(), d}, x2.options()) : torch::Tensor();
    const float* xp = x2.data_ptr<float>();
    const float* wp = weight.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    const float* rp = rstd.data_ptr<float>();
    float* dxp = want_dx ? dx.data_ptr<float>() : nullptr;
    float* dwp = want_dw ? dw_rows.data_ptr<float>() : nullptr;
    grpo::parallel_for(0, rows, rms_norm_grain(d), [&](int64_t begin, int64_t end) {
      float* dw_sum = dwp ? dwp + at::get_thread_num() * d : nullptr;
      cpu_dispatch<RmsNormBackwardRows>(xp, wp, gp, rp, dxp, dw_sum, d, begin, end);
    });
    const auto input_shape = grads[0].sizes();
    return {want_dx ? dx.view(input_shape) : torch::Tensor(), want_dw ? dw_rows.sum(0) : torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void rms_norm_rows(const float* x, const float* weight, float* y, int64_t d, float eps, int64_t begin, int64_t end) {
  cpu_dispatch<RmsNormForwardRows>(x, weight, y, static_cast<float*>(nullptr), d, eps, begin, end);
}

bool fused_rms_norm_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == torch::kFloat &&
         weight.scalar_type() == torch::kFloat && x.dim() >= 1 && weight.dim() == 1 && weight.size(0) == x.size(-1);
}

torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  if (!fused_rms_norm_applies(x, weight))
    throw Error("fused_rms_norm: needs CPU fp32 x [..., D] and weight [D]; use RMSNorm's ATen expression for other tensors");
  if (torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad()))
    return FusedRmsNormFunction::apply(x, weight, eps);
  const int64_t d = x.size(-1);
  return rms_norm_forward(x.reshape({-1, d}).contiguous(), weight.contiguous(), eps, torch::Tensor()).view(x.sizes());
}

}  // namespace grpo::policies::detail
