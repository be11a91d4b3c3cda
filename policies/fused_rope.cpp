// fused_rope.cpp: the forward and backward loops of fused_rope and their
// autograd function.
#include "policies/fused_rope.h"

#include "core/cpu_dispatch.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace grpo::policies::detail {

namespace {

// A [B, H, T, ...] operand by its strides (last dim contiguous); cos/sin use h_stride 0.
struct RopeOperand {
  float* data;
  int64_t b_stride, h_stride, t_stride;
};

// Rows r = (b·H + h)·T + t: out[r] = rotate(in[r]) with sign +1 (forward: [x1·c - x2·s, x2·c + x1·s])
// or -1 (backward, the transposed rotation: [g1·c + g2·s, g2·c - g1·s]).
struct RopeRows {
  static GRPO_CPU_INLINE void run(RopeOperand in, RopeOperand out, RopeOperand cos, RopeOperand sin, int64_t heads, int64_t len,
                                  int64_t half, float sign, int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t t = r % len, h = (r / len) % heads, b = r / (len * heads);
      const float* x1 = in.data + b * in.b_stride + h * in.h_stride + t * in.t_stride;
      const float* x2 = x1 + half;
      float* y1 = out.data + b * out.b_stride + h * out.h_stride + t * out.t_stride;
      float* y2 = y1 + half;
      const float* c = cos.data + b * cos.b_stride + t * cos.t_stride;
      const float* s = sin.data + b * sin.b_stride + t * sin.t_stride;
      for (int64_t i = 0; i < half; ++i) {
        const float ss = sign * s[i];
        y1[i] = x1[i] * c[i] - x2[i] * ss;
        y2[i] = x2[i] * c[i] + x1[i] * ss;
      }
    }
  }
};

RopeOperand rope_operand(const torch::Tensor& t) {
  return {t.data_ptr<float>(), t.stride(0), t.size(1) == 1 ? 0 : t.stride(1), t.stride(2)};
}

// out (same [B, H, T, hd] shape as in, any strides) <- rotate(in) with the sign above.
void rope_rotate(const torch::Tensor& in, const torch::Tensor& out, const torch::Tensor& cos, const torch::Tensor& sin,
                 float sign) {
  const int64_t B = in.size(0), H = in.size(1), T = in.size(2), half = in.size(3) / 2;
  const RopeOperand i = rope_operand(in), o = rope_operand(out), c = rope_operand(cos), s = rope_operand(sin);
  grpo::parallel_for(0, B * H * T, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, half)), [&](int64_t begin, int64_t end) {
    cpu_dispatch<RopeRows>(i, o, c, s, H, T, half, sign, begin, end);
  });
}

// Inputs x [B, H, T, hd], cos, sin [B, 1, T, hd/2]. Saved: cos and sin.
struct FusedRopeFunction : public torch::autograd::Function<FusedRopeFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin) {
    torch::Tensor y = torch::empty(x.sizes(), x.options());
    rope_rotate(x, y, cos, sin, 1.0f);
    ctx->save_for_backward({cos, sin});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    torch::Tensor g = grads[0].to(torch::kFloat);
    if (g.stride(-1) != 1) g = g.contiguous();
    // x's layout: the transposed view of the [B, T, H, hd] product stays a view of its gradient.
    torch::Tensor dx = torch::empty({g.size(0), g.size(2), g.size(1), g.size(3)}, g.options()).transpose(1, 2);
    rope_rotate(g, dx, saved[0], saved[1], -1.0f);
    return {dx, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool fused_rope_applies(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  for (const torch::Tensor* t : {&x, &cos, &sin})
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat || t->dim() != 4 || t->stride(3) != 1) return false;
  const std::vector<int64_t> table = {x.size(0), 1, x.size(2), x.size(3) / 2};
  return x.size(3) % 2 == 0 && cos.sizes() == table && sin.sizes() == table && !cos.requires_grad() && !sin.requires_grad();
}

torch::Tensor fused_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  if (!fused_rope_applies(x, cos, sin))
    throw Error("fused_rope: needs CPU fp32 x [B, H, T, hd] and cos, sin [B, 1, T, hd/2] (last dims contiguous, no gradient)");
  if (torch::GradMode::is_enabled() && x.requires_grad()) return FusedRopeFunction::apply(x, cos, sin);
  torch::Tensor y = torch::empty(x.sizes(), x.options());
  rope_rotate(x, y, cos, sin, 1.0f);
  return y;
}

}  // namespace grpo::policies::detail
