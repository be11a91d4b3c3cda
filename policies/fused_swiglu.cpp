// fused_swiglu.cpp: the forward and backward loops of swiglu and their
// autograd function.
#include "policies/fused_swiglu.h"

#include "core/cpu_dispatch.h"
#include "core/parallel_for.h"

namespace grpo::policies::detail {

namespace {

GRPO_CPU_INLINE float swiglu_sigmoid(float x) { return 1.0f / (1.0f + cpu_exp(-x)); }

// A [rows, I] operand: row r starts at data + r * stride, its I floats contiguous.
struct SwigluRows {
  const float* data;
  int64_t stride;
};

// h[r] = silu(gate[r]) · up[r], h contiguous [rows, I].
struct SwigluForwardRows {
  static GRPO_CPU_INLINE void run(SwigluRows gate, SwigluRows up, float* h, int64_t inner, int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* g = gate.data + r * gate.stride;
      const float* u = up.data + r * up.stride;
      float* hr = h + r * inner;
      for (int64_t i = 0; i < inner; ++i) hr[i] = g[i] * swiglu_sigmoid(g[i]) * u[i];
    }
  }
};

// dup = dh · silu(gate); dgate = dh · up · s · (1 + gate · (1 - s)); all contiguous [rows, I] but gate/up.
struct SwigluBackwardRows {
  static GRPO_CPU_INLINE void run(SwigluRows gate, SwigluRows up, const float* dh, float* dgate, float* dup, int64_t inner,
                                  int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* g = gate.data + r * gate.stride;
      const float* u = up.data + r * up.stride;
      const float* d = dh + r * inner;
      float* dg = dgate + r * inner;
      float* du = dup + r * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const float s = swiglu_sigmoid(g[i]);
        du[i] = d[i] * (g[i] * s);
        dg[i] = d[i] * u[i] * (s * (1.0f + g[i] * (1.0f - s)));
      }
    }
  }
};

// Rows per parallel task: about 32K floats each.
int64_t swiglu_grain(int64_t inner) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, inner)); }

// t [..., I] as rows, without a copy when its rows are evenly spaced with contiguous columns.
torch::Tensor swiglu_as_rows(const torch::Tensor& t) {
  torch::Tensor rows = t.reshape({-1, t.size(-1)});
  return rows.stride(1) == 1 ? rows : rows.contiguous();
}

SwigluRows swiglu_view(const torch::Tensor& rows) { return {rows.data_ptr<float>(), rows.stride(0)}; }

torch::Tensor swiglu_forward(const torch::Tensor& gate_rows, const torch::Tensor& up_rows) {
  const int64_t rows = gate_rows.size(0), inner = gate_rows.size(1);
  torch::Tensor h = torch::empty({rows, inner}, gate_rows.options());
  const SwigluRows g = swiglu_view(gate_rows), u = swiglu_view(up_rows);
  float* hp = h.data_ptr<float>();
  grpo::parallel_for(0, rows, swiglu_grain(inner),
                   [&](int64_t begin, int64_t end) { cpu_dispatch<SwigluForwardRows>(g, u, hp, inner, begin, end); });
  return h;
}

// Inputs gate, up [..., I]. Saved: both as [rows, I] row views (no copy when already so).
struct FusedSwigluFunction : public torch::autograd::Function<FusedSwigluFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& gate, const torch::Tensor& up) {
    torch::Tensor g = swiglu_as_rows(gate), u = swiglu_as_rows(up);
    ctx->save_for_backward({g, u});
    return swiglu_forward(g, u).view(gate.sizes());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor g = saved[0], u = saved[1];
    const int64_t rows = g.size(0), inner = g.size(1);
    const torch::Tensor dh = grads[0].reshape({rows, inner}).to(torch::kFloat).contiguous();
    torch::Tensor dgate = torch::empty({rows, inner}, g.options()), dup = torch::empty({rows, inner}, g.options());
    const SwigluRows gv = swiglu_view(g), uv = swiglu_view(u);
    const float* dhp = dh.data_ptr<float>();
    float* dgp = dgate.data_ptr<float>();
    float* dup_p = dup.data_ptr<float>();
    grpo::parallel_for(0, rows, swiglu_grain(inner), [&](int64_t begin, int64_t end) {
      cpu_dispatch<SwigluBackwardRows>(gv, uv, dhp, dgp, dup_p, inner, begin, end);
    });
    const auto shape = grads[0].sizes();
    return {dgate.view(shape), dup.view(shape)};
  }
};

}  // namespace

void swiglu_rows(const float* gate, const float* up, int64_t stride, float* h, int64_t inner, int64_t begin, int64_t end) {
  cpu_dispatch<SwigluForwardRows>(SwigluRows{gate, stride}, SwigluRows{up, stride}, h, inner, begin, end);
}

bool swiglu_fused_applies(const torch::Tensor& gate, const torch::Tensor& up) {
  return gate.device().is_cpu() && up.device().is_cpu() && gate.scalar_type() == torch::kFloat &&
         up.scalar_type() == torch::kFloat && gate.dim() >= 1 && gate.sizes() == up.sizes();
}

torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up) {
  if (!swiglu_fused_applies(gate, up)) return torch::silu(gate) * up;
  if (torch::GradMode::is_enabled() && (gate.requires_grad() || up.requires_grad())) return FusedSwigluFunction::apply(gate, up);
  return swiglu_forward(swiglu_as_rows(gate), swiglu_as_rows(up)).view(gate.sizes());
}

}  // namespace grpo::policies::detail
