// log_softmax_rows.cpp: the row loops of log_softmax_rows.h.
#include "policies/log_softmax_rows.h"

#include <limits>

#include "core/cpu_dispatch.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace grpo::policies::detail {

namespace {

// z[r] <- z[r] - lse[r]; entropy[r] = lse - Σ e·z / Σ e with e = exp(z - max) (entropy null: skipped).
struct LogSoftmaxForwardRows {
  static GRPO_CPU_INLINE void run(float* z, int64_t v, float* lse, int64_t lse_stride, float* entropy, int64_t entropy_stride,
                                  int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* zr = z + r * v;
      float lane_max[kCpuLanes];
      for (int64_t l = 0; l < kCpuLanes; ++l) lane_max[l] = -std::numeric_limits<float>::infinity();
      int64_t i = 0;
      for (; i + kCpuLanes <= v; i += kCpuLanes)
        for (int64_t l = 0; l < kCpuLanes; ++l) lane_max[l] = zr[i + l] > lane_max[l] ? zr[i + l] : lane_max[l];
      float m = lane_max[0];
      for (int64_t l = 1; l < kCpuLanes; ++l) m = lane_max[l] > m ? lane_max[l] : m;
      for (; i < v; ++i) m = zr[i] > m ? zr[i] : m;
      float lane_sum[kCpuLanes] = {}, lane_ez[kCpuLanes] = {};
      i = 0;
      if (entropy) {
        for (; i + kCpuLanes <= v; i += kCpuLanes)
          for (int64_t l = 0; l < kCpuLanes; ++l) {
            const float e = cpu_exp(zr[i + l] - m);
            lane_sum[l] += e;
            lane_ez[l] += e * zr[i + l];
          }
      } else {
        for (; i + kCpuLanes <= v; i += kCpuLanes)
          for (int64_t l = 0; l < kCpuLanes; ++l) lane_sum[l] += cpu_exp(zr[i + l] - m);
      }
      float sum = 0, ez = 0;
      for (int64_t l = 0; l < kCpuLanes; ++l) {
        sum += lane_sum[l];
        ez += lane_ez[l];
      }
      for (; i < v; ++i) {
        const float e = cpu_exp(zr[i] - m);
        sum += e;
        ez += e * zr[i];
      }
      const float row_lse = m + std::log(sum);
      lse[r * lse_stride] = row_lse;
      if (entropy) entropy[r * entropy_stride] = row_lse - ez / sum;
      for (int64_t j = 0; j < v; ++j) zr[j] -= row_lse;
    }
  }
};

// logp[r] <- (p·(-g - ge·(logp + H)) + onehot(t)·g) · inv_t, p = exp(logp); g, ge, H per row (null: 0).
struct LogSoftmaxBackwardRows {
  static GRPO_CPU_INLINE void run(float* logp, int64_t v, const int64_t* targets, const float* g_logp, const float* g_ent,
                                  const float* entropy, float inv_t, int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* lr = logp + r * v;
      const float g = g_logp ? g_logp[r] : 0.0f;
      if (g_ent) {
        const float ge = g_ent[r], h = entropy[r];
        for (int64_t j = 0; j < v; ++j) lr[j] = cpu_exp(lr[j]) * (-g - ge * (lr[j] + h)) * inv_t;
      } else {
        const float a = -g * inv_t;
        for (int64_t j = 0; j < v; ++j) lr[j] = cpu_exp(lr[j]) * a;
      }
      lr[targets[r]] += g * inv_t;
    }
  }
};

// A 1-D fp32 tensor's data as contiguous (a copy only when it is not).
torch::Tensor log_softmax_rows_vector(const torch::Tensor& t, int64_t n, const char* what) {
  if (!t.defined()) return t;
  if (t.dim() != 1 || t.size(0) != n || !t.device().is_cpu())
    throw Error(std::string("log_softmax_rows: ") + what + " must be a CPU [" + std::to_string(n) + "] tensor");
  return t.to(torch::kFloat).contiguous();
}

}  // namespace

bool log_softmax_rows_applies(const torch::Tensor& z) {
  return z.device().is_cpu() && z.scalar_type() == torch::kFloat && z.dim() == 2 && z.is_contiguous();
}

void log_softmax_rows_(torch::Tensor& z, torch::Tensor lse, torch::Tensor entropy) {
  if (!log_softmax_rows_applies(z)) throw Error("log_softmax_rows_: needs a contiguous 2-D CPU fp32 chunk");
  const int64_t n = z.size(0), v = z.size(1);
  for (const torch::Tensor* t : {&lse, &entropy})
    if (t->defined() && (t->dim() != 1 || t->size(0) != n || !t->device().is_cpu() || t->scalar_type() != torch::kFloat))
      throw Error("log_softmax_rows_: lse and entropy must be CPU fp32 [" + std::to_string(n) + "] tensors");
  if (!lse.defined()) throw Error("log_softmax_rows_: lse is required");
  float* zp = z.data_ptr<float>();
  float* lp = lse.data_ptr<float>();
  float* ep = entropy.defined() ? entropy.data_ptr<float>() : nullptr;
  const int64_t ls = lse.stride(0), es = entropy.defined() ? entropy.stride(0) : 0;
  grpo::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    cpu_dispatch<LogSoftmaxForwardRows>(zp, v, lp, ls, ep, es, begin, end);
  });
}

void log_softmax_rows_backward_(torch::Tensor& logp, const torch::Tensor& targets, const torch::Tensor& g_logp,
                                const torch::Tensor& g_ent, const torch::Tensor& entropy, double temperature) {
  if (!log_softmax_rows_applies(logp)) throw Error("log_softmax_rows_backward_: needs a contiguous 2-D CPU fp32 chunk");
  const int64_t n = logp.size(0), v = logp.size(1);
  if (g_ent.defined() && !entropy.defined()) throw Error("log_softmax_rows_backward_: an entropy gradient needs the entropies");
  const torch::Tensor t = targets.to(torch::kLong).contiguous();
  if (t.dim() != 1 || t.size(0) != n) throw Error("log_softmax_rows_backward_: targets must be [" + std::to_string(n) + "]");
  const torch::Tensor g = log_softmax_rows_vector(g_logp, n, "g_logp"), ge = log_softmax_rows_vector(g_ent, n, "g_ent");
  const torch::Tensor h = g_ent.defined() ? log_softmax_rows_vector(entropy, n, "entropy") : torch::Tensor();
  float* lp = logp.data_ptr<float>();
  const int64_t* tp = t.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r)
    if (tp[r] < 0 || tp[r] >= v) throw Error("log_softmax_rows_backward_: target " + std::to_string(tp[r]) + " outside the vocabulary of " + std::to_string(v));
  const float* gp = g.defined() ? g.data_ptr<float>() : nullptr;
  const float* gep = ge.defined() ? ge.data_ptr<float>() : nullptr;
  const float* hp = h.defined() ? h.data_ptr<float>() : nullptr;
  const float inv_t = static_cast<float>(1.0 / temperature);
  grpo::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    cpu_dispatch<LogSoftmaxBackwardRows>(lp, v, tp, gp, gep, hp, inv_t, begin, end);
  });
}

}  // namespace grpo::policies::detail
