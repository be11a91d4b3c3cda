// The GRPO loss: hand-computed values, gradients against autograd of a naive
// per-token formula, exactness under gradient accumulation / data parallelism
// (the 1x8, 2x4, 8x1 split test), zero-std groups and padding garbage.
#include "learner/grpo_loss.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/error.h"

namespace grpo::learner {
namespace {

constexpr auto kF64 = torch::kFloat64;

torch::Tensor t2(std::vector<std::vector<double>> rows) {
  std::vector<torch::Tensor> ts;
  for (auto& r : rows) ts.push_back(torch::tensor(r, kF64));
  return torch::stack(ts);
}

// Loss and d loss / d logprobs of one micro-batch that is a whole step.
std::pair<double, torch::Tensor> loss_and_grad(LossInputs in, const LossOptions& o, int64_t l_max) {
  torch::Tensor lp = in.logprobs.detach().clone().requires_grad_(true);
  in.logprobs = lp;
  LossOutput out = grpo_loss(in, o, StepNormaliser::single(in.mask, l_max));
  out.loss.backward();
  return {out.loss.item<double>(), lp.grad()};
}

LossInputs one_token(double log_ratio, double advantage) {
  LossInputs in;
  in.logprobs = torch::full({1, 1}, -1.0 + log_ratio, kF64);
  in.old_logprobs = torch::full({1, 1}, -1.0, kF64);
  in.advantages = torch::full({1}, advantage, kF64);
  in.mask = torch::ones({1, 1}, kF64);
  return in;
}

TEST(GrpoLossTest, K3MatchesReferenceCheck) {
  // grpo-reference.md: k3 = 0.0048374 when logprob - ref = 0.1.
  auto k3 = kl_estimate(torch::full({1}, 0.1, kF64), torch::zeros({1}, kF64), "k3");
  EXPECT_NEAR(k3.item<double>(), std::exp(-0.1) + 0.1 - 1.0, 1e-15);
  EXPECT_NEAR(k3.item<double>(), 0.0048374, 1e-7);
  EXPECT_NEAR(kl_estimate(torch::full({1}, 0.1, kF64), torch::zeros({1}, kF64), "k1").item<double>(), 0.1, 1e-15);
  EXPECT_NEAR(kl_estimate(torch::full({1}, 0.1, kF64), torch::zeros({1}, kF64), "k2").item<double>(), 0.005, 1e-15);
  EXPECT_EQ(kl_estimate(torch::full({1}, -2.0, kF64), torch::full({1}, -2.0, kF64), "k3").item<double>(), 0.0);
}

TEST(GrpoLossTest, ClipsPositiveAdvantageAboveOnePlusEpsilon) {
  auto [loss, grad] = loss_and_grad(one_token(std::log(1.5), 1.0), {}, 1);
  EXPECT_NEAR(loss, -1.2, 1e-12);              // -min(1.5*1, 1.2*1)
  EXPECT_EQ(grad.item<double>(), 0.0);         // the clipped branch carries no gradient
}

TEST(GrpoLossTest, ClipHigherWidensTheUpperBound) {
  LossOptions o;
  o.epsilon_high = 0.28;
  auto [loss, grad] = loss_and_grad(one_token(std::log(1.25), 1.0), o, 1);
  EXPECT_NEAR(loss, -1.25, 1e-12);             // 1.25 < 1.28: unclipped
  EXPECT_NEAR(grad.item<double>(), -1.25, 1e-12);  // d(-rho)/d logp = -rho
}

TEST(GrpoLossTest, NegativeAdvantageIsNotClippedAboveAndDualClipBoundsIt) {
  auto [loss, grad] = loss_and_grad(one_token(std::log(5.0), -1.0), {}, 1);
  EXPECT_NEAR(loss, 5.0, 1e-12);               // -min(-5, -1.2) = 5
  EXPECT_NEAR(grad.item<double>(), 5.0, 1e-12);
  LossOptions o;
  o.dual_clip_c = 3.0;
  auto [dual, dual_grad] = loss_and_grad(one_token(std::log(5.0), -1.0), o, 1);
  EXPECT_NEAR(dual, 3.0, 1e-12);               // min(5, -c*A) = 3
  EXPECT_EQ(dual_grad.item<double>(), 0.0);
  LossOptions d;
  d.delta = 2.0;
  auto [capped, capped_grad] = loss_and_grad(one_token(std::log(5.0), -1.0), d, 1);
  EXPECT_NEAR(capped, 2.0, 1e-12);             // rho capped at delta
  EXPECT_EQ(capped_grad.item<double>(), 0.0);
}

TEST(GrpoLossTest, NegativeAdvantageBelowOneMinusEpsilonIsClipped) {
  auto [loss, grad] = loss_and_grad(one_token(std::log(0.5), -1.0), {}, 1);
  EXPECT_NEAR(loss, 0.8, 1e-12);               // -min(-0.5, -0.8)
  EXPECT_EQ(grad.item<double>(), 0.0);
}

TEST(GrpoLossTest, EachAggregationMatchesHandComputedValue) {
  // On-policy (rho = 1): per-token loss = -A. Sequence 0 has 1 token (A=1),
  // sequence 1 has 3 tokens (A=0.5); L_max = 4.
  LossInputs in;
  in.logprobs = torch::full({2, 4}, -1.0, kF64);
  in.advantages = torch::tensor({1.0, 0.5}, kF64);
  in.mask = t2({{1, 0, 0, 0}, {1, 1, 1, 0}});
  const std::map<std::string, double> expected = {
      {"grpo", (-1.0 + -0.5) / 2},     // mean of per-sequence means
      {"bnpo", (-1.0 - 1.5) / 4},      // token mean
      {"dr_grpo", (-1.0 - 1.5) / (2 * 4)},  // / (B * L_max)
      {"dapo", (-1.0 - 1.5) / 4}};     // / N_tok of the step
  for (const auto& [type, want] : expected) {
    LossOptions o;
    o.loss_type = type;
    EXPECT_NEAR(loss_and_grad(in, o, 4).first, want, 1e-12) << type;
  }
}

TEST(GrpoLossTest, OnPolicyLossIsMinusMeanAdvantageButGradientIsNot) {
  // grpo-reference.md: with mu = 1, rho == 1 and the loss is ~0 for centred
  // advantages while the gradient is -A per token.
  LossInputs in;
  in.logprobs = torch::full({2, 2}, -0.7, kF64);
  in.advantages = torch::tensor({1.0, -1.0}, kF64);
  in.mask = torch::ones({2, 2}, kF64);
  auto [loss, grad] = loss_and_grad(in, {}, 2);
  EXPECT_NEAR(loss, 0.0, 1e-15);
  EXPECT_NEAR(grad[0][0].item<double>(), -0.25, 1e-12);
  EXPECT_NEAR(grad[1][1].item<double>(), 0.25, 1e-12);
}

TEST(GrpoLossTest, ZeroAdvantagesGiveZeroLossAndGradient) {
  // A zero-std group has A = 0 exactly: no policy-gradient signal at all.
  LossInputs in;
  torch::manual_seed(3);
  in.logprobs = -torch::rand({4, 5}, kF64);
  in.old_logprobs = in.logprobs + 0.3 * torch::randn({4, 5}, kF64);
  in.advantages = torch::zeros({4}, kF64);
  in.mask = torch::ones({4, 5}, kF64);
  for (std::string type : {"grpo", "bnpo", "dr_grpo", "dapo"}) {
    LossOptions o;
    o.loss_type = type;
    auto [loss, grad] = loss_and_grad(in, o, 5);
    EXPECT_EQ(loss, 0.0) << type;
    EXPECT_EQ(grad.abs().max().item<double>(), 0.0) << type;
  }
}

TEST(GrpoLossTest, PaddingGarbageNeverReachesLossOrGradient) {
  torch::manual_seed(4);
  LossInputs clean;
  clean.logprobs = -torch::rand({3, 6}, kF64);
  clean.old_logprobs = clean.logprobs + 0.2 * torch::randn({3, 6}, kF64);
  clean.ref_logprobs = clean.logprobs + 0.2 * torch::randn({3, 6}, kF64);
  clean.rollout_logprobs = clean.old_logprobs + 0.1 * torch::randn({3, 6}, kF64);
  clean.entropies = torch::rand({3, 6}, kF64);
  clean.advantages = torch::randn({3}, kF64);
  clean.mask = t2({{1, 1, 1, 0, 0, 0}, {1, 1, 1, 1, 1, 0}, {1, 0, 0, 0, 0, 0}});
  LossInputs dirty = clean;
  torch::Tensor pad = clean.mask == 0;
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  dirty.logprobs = clean.logprobs.masked_fill(pad, -inf);
  dirty.old_logprobs = clean.old_logprobs.masked_fill(pad, nan);
  dirty.ref_logprobs = clean.ref_logprobs.masked_fill(pad, inf);
  dirty.rollout_logprobs = clean.rollout_logprobs.masked_fill(pad, nan);
  dirty.entropies = clean.entropies.masked_fill(pad, nan);
  LossOptions o;
  o.beta = 0.1;
  o.is_correction = "token_truncate";
  o.top_entropy_quantile = 0.5;
  o.entropy_coef = 0.01;
  auto [loss_c, grad_c] = loss_and_grad(clean, o, 6);
  auto [loss_d, grad_d] = loss_and_grad(dirty, o, 6);
  EXPECT_TRUE(std::isfinite(loss_d));
  EXPECT_TRUE(torch::isfinite(grad_d).all().item<bool>());
  EXPECT_DOUBLE_EQ(loss_c, loss_d);
  EXPECT_TRUE(torch::equal(grad_c, grad_d));
}

TEST(GrpoLossTest, MissingInputsAndBadShapesAreNamed) {
  LossInputs in = one_token(0.0, 1.0);
  LossOptions o;
  o.beta = 0.1;
  try {
    grpo_loss(in, o, StepNormaliser::single(in.mask, 1));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ref_logprobs"), std::string::npos) << e.what();
  }
  in.advantages = torch::ones({3}, kF64);
  EXPECT_THROW(grpo_loss(in, {}, StepNormaliser::single(in.mask, 1)), Error);
}

// --- gradients against autograd of a naive per-token formula

// The objective written out token by token from grpo-reference.md, with
// scalar tensor arithmetic only (token-level ratio).
torch::Tensor naive_loss(const torch::Tensor& lp, const LossInputs& in, const LossOptions& o, int64_t l_max) {
  const int64_t b = lp.size(0), t = lp.size(1);
  torch::Tensor total = torch::zeros({}, kF64);
  double n_tok = in.mask.sum().item<double>();
  for (int64_t i = 0; i < b; ++i) {
    torch::Tensor seq = torch::zeros({}, kF64);
    double len = 0;
    const double a = in.advantages[i].item<double>();
    for (int64_t j = 0; j < t; ++j) {
      if (in.mask[i][j].item<double>() == 0) continue;
      len += 1;
      torch::Tensor rho = torch::exp(lp[i][j] - in.old_logprobs[i][j]);
      torch::Tensor clipped = torch::clamp(rho, 1 - o.epsilon_low, 1 + o.epsilon_high);
      torch::Tensor unclipped = o.delta ? torch::clamp_max(rho, *o.delta) : rho;
      torch::Tensor l = -torch::min(unclipped * a, clipped * a);
      if (o.dual_clip_c && a < 0) l = torch::clamp_max(l, -(*o.dual_clip_c) * a);
      if (o.beta > 0) {
        torch::Tensor d = in.ref_logprobs[i][j] - lp[i][j];
        torch::Tensor kl = o.kl_estimator == "k3" ? torch::exp(d) - d - 1 : o.kl_estimator == "k1" ? -d : 0.5 * d * d;
        l = l + o.beta * kl;
      }
      seq = seq + l;
    }
    if (o.loss_type == "grpo") total = total + seq / std::max(len, 1.0) / static_cast<double>(b);
    else total = total + seq;
  }
  if (o.loss_type == "bnpo" || o.loss_type == "dapo") total = total / n_tok;
  if (o.loss_type == "dr_grpo") total = total / static_cast<double>(b * l_max);
  return total;
}

TEST(GrpoLossTest, GradientsMatchAutogradOfNaiveFormula) {
  torch::manual_seed(11);
  LossInputs in;
  in.logprobs = -torch::rand({4, 5}, kF64) * 2;
  in.old_logprobs = in.logprobs + 0.3 * torch::randn({4, 5}, kF64);
  in.ref_logprobs = in.logprobs + 0.3 * torch::randn({4, 5}, kF64);
  in.advantages = torch::tensor({1.2, -0.7, 0.4, -1.5}, kF64);
  in.mask = t2({{1, 1, 1, 1, 1}, {1, 1, 0, 0, 0}, {1, 1, 1, 1, 0}, {1, 0, 0, 0, 0}});
  int checked = 0;
  for (std::string type : {"grpo", "bnpo", "dr_grpo", "dapo"})
    for (std::string kl : {"", "k1", "k2", "k3"})
      for (int variant = 0; variant < 3; ++variant) {
        LossOptions o;
        o.loss_type = type;
        if (!kl.empty()) { o.beta = 0.05; o.kl_estimator = kl; }
        if (variant == 1) { o.epsilon_high = 0.28; o.delta = 1.35; }
        if (variant == 2) o.dual_clip_c = 1.3;
        SCOPED_TRACE(type + " kl=" + kl + " variant=" + std::to_string(variant));
        auto [loss, grad] = loss_and_grad(in, o, 6);
        torch::Tensor lp = in.logprobs.detach().clone().requires_grad_(true);
        torch::Tensor naive = naive_loss(lp, in, o, 6);
        naive.backward();
        EXPECT_NEAR(loss, naive.item<double>(), 1e-12);
        EXPECT_LT((grad - lp.grad()).abs().max().item<double>(), 1e-12);
        ++checked;
      }
  EXPECT_EQ(checked, 48);
}

TEST(GrpoLossTest, SequenceLevelRatioIsExpOfMeanLogRatio) {
  // GSPO: s = exp(mean_t(logp - old)); with A = 1 and s inside the clip range
  // the loss of the sequence is -s.
  LossInputs in;
  in.logprobs = t2({{-1.0, -2.0, 0.0}});
  in.old_logprobs = t2({{-1.1, -1.95, 5.0}});
  in.advantages = torch::ones({1}, kF64);
  in.mask = t2({{1, 1, 0}});
  LossOptions o;
  o.loss_type = "grpo";
  o.importance_sampling_level = "sequence";
  EXPECT_NEAR(loss_and_grad(in, o, 3).first, -std::exp((0.1 - 0.05) / 2), 1e-12);
}

// --- exactness under gradient accumulation and data parallelism

struct Batch {
  LossInputs in;
  int64_t l_max;
};

Batch ragged_batch(bool equal_lengths) {
  torch::manual_seed(21);
  Batch b;
  const int64_t n = 8, t = 6;
  b.l_max = t;
  b.in.logprobs = -torch::rand({n, t}, kF64) * 2;
  b.in.old_logprobs = b.in.logprobs + 0.2 * torch::randn({n, t}, kF64);
  b.in.ref_logprobs = b.in.logprobs + 0.2 * torch::randn({n, t}, kF64);
  b.in.advantages = torch::randn({n}, kF64);
  torch::Tensor lengths = equal_lengths ? torch::full({n}, 4, torch::kLong) : torch::tensor({1, 6, 3, 2, 5, 6, 4, 1}, torch::kLong);
  b.in.mask = (torch::arange(t).unsqueeze(0) < lengths.unsqueeze(1)).to(kF64);
  return b;
}

LossInputs rows(const LossInputs& in, int64_t begin, int64_t end) {
  LossInputs r;
  r.logprobs = in.logprobs.slice(0, begin, end);
  r.old_logprobs = in.old_logprobs.slice(0, begin, end);
  r.ref_logprobs = in.ref_logprobs.slice(0, begin, end);
  r.advantages = in.advantages.slice(0, begin, end);
  r.mask = in.mask.slice(0, begin, end);
  if (in.entropies.defined()) r.entropies = in.entropies.slice(0, begin, end);
  return r;
}

// Gradient of the step when the 8 completions are spread over `ranks` ranks
// with `micro` micro-batches each: micro-batch gradients are summed on a rank
// and averaged over ranks, as DDP does.
torch::Tensor split_gradient(const Batch& b, const LossOptions& o, int64_t ranks, int64_t micro) {
  torch::Tensor lp = b.in.logprobs.detach().clone().requires_grad_(true);
  const int64_t n = lp.size(0), per = n / (ranks * micro);
  StepNormaliser norm;
  norm.micro_batches = ranks * micro;
  norm.world_size = ranks;
  norm.step_tokens = b.in.mask.sum().item<double>();
  norm.step_sequences = static_cast<double>(n);
  norm.max_completion_length = b.l_max;
  torch::Tensor total = torch::zeros_like(lp);
  for (int64_t r = 0; r < ranks; ++r) {
    torch::Tensor rank_grad = torch::zeros_like(lp);
    for (int64_t k = 0; k < micro; ++k) {
      const int64_t begin = (r * micro + k) * per;
      LossInputs part = rows(b.in, begin, begin + per);
      part.logprobs = lp.slice(0, begin, begin + per);
      if (lp.grad().defined()) lp.mutable_grad().zero_();
      grpo_loss(part, o, norm).loss.backward();
      rank_grad += lp.grad();
    }
    total += rank_grad / static_cast<double>(ranks);
  }
  return total;
}

TEST(GrpoLossTest, SplitsOneByEightTwoByFourEightByOneGiveTheSameGradient) {
  for (std::string type : {"grpo", "bnpo", "dr_grpo", "dapo"}) {
    // bnpo is by definition a mean of micro-batch means: exact only when the
    // micro-batches hold equally many tokens.
    Batch b = ragged_batch(/*equal_lengths=*/type == "bnpo");
    LossOptions o;
    o.loss_type = type;
    o.beta = 0.04;
    torch::Tensor whole = split_gradient(b, o, 1, 1);
    EXPECT_GT(whole.abs().max().item<double>(), 1e-3);
    const std::vector<std::pair<int64_t, int64_t>> splits = {{1, 8}, {2, 4}, {8, 1}, {2, 2}, {4, 1}};
    for (auto [ranks, micro] : splits) {
      SCOPED_TRACE(type + " ranks=" + std::to_string(ranks) + " micro=" + std::to_string(micro));
      EXPECT_LT((split_gradient(b, o, ranks, micro) - whole).abs().max().item<double>(), 1e-12);
    }
  }
}

// Gradient of a step whose micro-batches (row ranges) lie on ranks as given,
// averaged over the ranks.
torch::Tensor placed_gradient(const Batch& b, const LossOptions& o,
                              const std::vector<std::vector<std::pair<int64_t, int64_t>>>& ranks) {
  torch::Tensor lp = b.in.logprobs.detach().clone().requires_grad_(true);
  StepNormaliser norm;
  norm.world_size = static_cast<int64_t>(ranks.size());
  norm.micro_batches = 0;
  for (const auto& r : ranks) norm.micro_batches += static_cast<int64_t>(r.size());
  norm.step_tokens = b.in.mask.sum().item<double>();
  norm.step_sequences = static_cast<double>(lp.size(0));
  norm.max_completion_length = b.l_max;
  for (const auto& r : ranks)
    for (auto [begin, end] : r) {
      LossInputs part = rows(b.in, begin, end);
      part.logprobs = lp.slice(0, begin, end);
      (grpo_loss(part, o, norm).loss / static_cast<double>(ranks.size())).backward();
    }
  return lp.grad();
}

TEST(GrpoLossTest, BnpoAndEntropyBonusAverageOverAllMicroBatchesWhenRanksHoldUnequalCounts) {
  // Token budgets can give ranks unequal micro-batch counts (here 1 and 3):
  // the step is still the mean over its 4 micro-batches, as on one rank.
  Batch b = ragged_batch(/*equal_lengths=*/false);
  b.in.entropies = torch::rand_like(b.in.logprobs);
  LossOptions o;
  o.loss_type = "bnpo";
  o.beta = 0.04;
  o.entropy_coef = 0.01;
  const std::vector<std::pair<int64_t, int64_t>> rank0 = {{0, 4}}, rank1 = {{4, 6}, {6, 7}, {7, 8}};
  std::vector<std::pair<int64_t, int64_t>> all = rank0;
  all.insert(all.end(), rank1.begin(), rank1.end());
  torch::Tensor one_rank = placed_gradient(b, o, {all});
  torch::Tensor two_ranks = placed_gradient(b, o, {rank0, rank1});
  EXPECT_GT(one_rank.abs().max().item<double>(), 1e-3);
  EXPECT_LT((two_ranks - one_rank).abs().max().item<double>(), 1e-12);
}

}  // namespace
}  // namespace grpo::learner
