// Data parallelism over c10d Gloo on CPU, with the ranks as threads of this
// process (each with its own TCPStore client and ProcessGroupGloo): the
// collectives, and 2 ranks reaching the same parameters as 1 rank trained on
// the same global batch, for several aggregations. The backend choice (Gloo
// on CPU, NCCL on CUDA) and each rank's device are pure functions tested
// here; the NCCL collectives need two GPUs (DataParallelCuda, skipped below two).
#include "learner/data_parallel.h"

#include <cstdlib>
#include <chrono>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/loopback_port.h"
#include "core/torch_compat.h"
#include "learner/generation_broadcast.h"
#include "learner/grpo_trainer.h"

namespace grpo::learner {
namespace {

// Runs body(dp) on `world` ranks, one thread each; rethrows a rank's failure.
// cuda: rank r on cuda:r (NCCL).
void run_ranks(int world, const std::function<void(DataParallel&)>& body, int64_t bucket_bytes = 25 << 20,
               double timeout_s = 120, bool cuda = false) {
  const int port = free_loopback_port("data-parallel test");
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        DataParallelOptions o;
        o.rank = r;
        o.world_size = world;
        o.master_port = port;
        o.bucket_bytes = bucket_bytes;
        o.timeout_s = timeout_s;
        if (cuda) o.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(r));
        DataParallel dp(o);
        body(dp);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

TEST(DataParallelOptions, ReadsTorchrunEnvironment) {
  ::setenv("RANK", "1", 1);
  ::setenv("WORLD_SIZE", "3", 1);
  ::setenv("MASTER_ADDR", "10.0.0.2", 1);
  ::setenv("MASTER_PORT", "29777", 1);
  DataParallelOptions o = DataParallelOptions::from_env();
  EXPECT_EQ(o.rank, 1);
  EXPECT_EQ(o.world_size, 3);
  EXPECT_EQ(o.master_addr, "10.0.0.2");
  EXPECT_EQ(o.master_port, 29777);
  EXPECT_EQ(o.local_rank, 1) << "without LOCAL_RANK, one host: the local rank is RANK";
  EXPECT_TRUE(o.device.is_cpu());
  ::setenv("LOCAL_RANK", "0", 1);  // rank 1 of 3, first on its host
  EXPECT_EQ(DataParallelOptions::from_env().local_rank, 0);
  ::setenv("LOCAL_RANK", "-1", 1);
  EXPECT_THROW(DataParallelOptions::from_env(), Error);
  ::unsetenv("LOCAL_RANK");
  ::setenv("RANK", "3", 1);
  EXPECT_THROW(DataParallelOptions::from_env(), Error);
  ::setenv("RANK", "x", 1);
  try {
    DataParallelOptions::from_env();
    FAIL() << "RANK=x accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("RANK"), std::string::npos) << e.what();
  }
  for (const char* v : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);
  EXPECT_EQ(DataParallelOptions::from_env().world_size, 1);
}

TEST(DataParallelBackend, GlooOnTheCpuNcclOnCudaOrAnErrorNamingTheKey) {
  const torch::Device cpu(torch::kCPU), gpu(torch::kCUDA, 1);
  EXPECT_EQ(choose_backend(cpu, true), DpBackend::kGloo);
  EXPECT_EQ(choose_backend(cpu, false), DpBackend::kGloo);
  EXPECT_EQ(choose_backend(gpu, true), DpBackend::kNccl);
  try {
    choose_backend(gpu, false);
    FAIL() << "CUDA data parallelism accepted without NCCL";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("NCCL"), std::string::npos) << e.what();
  }
#if defined(GRPO_WITH_CUDA) && GRPO_TORCH_2
  // The wheel's CUDA LibTorch has c10d NCCL and configure finds nccl.h beside it.
  EXPECT_TRUE(nccl_built());
#else
  EXPECT_FALSE(nccl_built());
#endif
}

TEST(DataParallelBackend, EachRankTakesTheGpuOfItsLocalRank) {
  EXPECT_EQ(rank_model_device("cuda", 1, 2), "cuda:1");
  EXPECT_EQ(rank_model_device("cuda", 3, 8), "cuda:3");
  EXPECT_EQ(rank_model_device("cpu", 1, 2), "cpu");
  EXPECT_EQ(rank_model_device("cuda", 0, 1), "cuda") << "one rank keeps the recipe's device";
  EXPECT_EQ(rank_model_device("cuda:2", 0, 1), "cuda:2");
  try {
    rank_model_device("cuda:0", 1, 2);
    FAIL() << "two ranks pinned to one GPU accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.device"), std::string::npos) << e.what();
  }
}

TEST(DataParallel, AllReduceAndBucketedGradientAverage) {
  run_ranks(2, [](DataParallel& dp) {
    EXPECT_EQ(dp.backend(), DpBackend::kGloo);
    const double r = dp.rank();
    auto sum = dp.all_reduce({r + 1, 10 * r}, Reduce::kSum);
    EXPECT_EQ(sum, (std::vector<double>{3, 10}));
    EXPECT_EQ(dp.all_reduce({r}, Reduce::kMax)[0], 1.0);
    EXPECT_EQ(dp.all_reduce({r}, Reduce::kMin)[0], 0.0);
    // Three parameters over 16-byte buckets: several buckets, one parameter
    // larger than a bucket, and one without a gradient on rank 1.
    std::vector<torch::Tensor> params = {torch::zeros({3}, torch::requires_grad()), torch::zeros({2, 5}, torch::requires_grad()),
                                         torch::zeros({1}, torch::requires_grad())};
    params[0].mutable_grad() = torch::full({3}, r + 1);
    params[1].mutable_grad() = torch::arange(10, torch::kFloat).view({2, 5}) * (r + 1);
    if (r == 0) params[2].mutable_grad() = torch::full({1}, 4.0);
    dp.average_gradients(params);
    EXPECT_TRUE(torch::allclose(params[0].grad(), torch::full({3}, 1.5)));
    EXPECT_TRUE(torch::allclose(params[1].grad(), torch::arange(10, torch::kFloat).view({2, 5}) * 1.5));
    EXPECT_TRUE(torch::allclose(params[2].grad(), torch::full({1}, 2.0)));
  }, /*bucket_bytes=*/16);
}

policies::ModelConfig tiny_config() {
  policies::ModelConfig c;
  c.model_type = "qwen2";
  c.vocab_size = 16;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 64;
  c.validate("tiny data-parallel config");
  return c;
}

// 8 completions of lengths 2..9 after 2- or 3-token prompts, with advantages of both signs.
std::vector<TrainSequence> global_batch() {
  std::vector<TrainSequence> batch;
  for (int64_t i = 0; i < 8; ++i) {
    TrainSequence s;
    s.prompt_len = 2 + i % 2;
    for (int64_t t = 0; t < s.prompt_len + 2 + i; ++t) s.tokens.push_back((3 * i + 5 * t) % 16);
    s.advantage = (i % 3 == 0 ? -1.0 : 0.7) * (1 + 0.1 * static_cast<double>(i));
    batch.push_back(std::move(s));
  }
  return batch;
}

// Rank 0 sends `sent`, then the stop; every other rank receives exactly `sent`, then the stop.
void exchange_generation(DataParallel& dp, const std::vector<TrainSequence>& sent) {
  if (dp.is_primary()) {
    send_generation(dp, sent);
    send_stop(dp);
    return;
  }
  auto got = receive_generation(dp);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ((*got)[i].tokens, sent[i].tokens);
    EXPECT_EQ((*got)[i].prompt_len, sent[i].prompt_len);
    EXPECT_EQ((*got)[i].truncated, sent[i].truncated);
    EXPECT_EQ((*got)[i].rollout_logprobs, sent[i].rollout_logprobs);
    EXPECT_EQ((*got)[i].advantage, sent[i].advantage);
  }
  EXPECT_FALSE(receive_generation(dp));
}

LearnerConfig dp_config(const std::string& loss_type) {
  LearnerConfig c;
  c.loss_type = loss_type;
  c.lr = 1e-2;
  c.num_iterations = 2;        // old log-probs scored by the learner, ratio != 1 on the second pass
  c.steps_per_generation = 2;  // two optimizer steps per pass
  // Several micro-batches per step. bnpo is a mean of micro-batch means, so
  // it matches one rank only with the same micro-batches: one completion each.
  c.micro_batch_tokens = loss_type == "bnpo" ? 1 : 24;
  c.beta = 0.04;               // a reference model, broadcast too
  return c;
}

struct Trained {
  std::vector<torch::Tensor> parameters;
  std::vector<double> grad_norms;  // per optimizer step, before clipping: sees any scale error
  std::vector<double> losses;      // that Adam's scale invariance would hide in the parameters
};

// Training on global_batch() as a rank of `dp` (or alone); rank 1 starts
// from other weights, which set_data_parallel replaces by rank 0's.
Trained train(const LearnerConfig& cfg, DataParallel* dp) {
  const uint64_t seed = dp && dp->rank() == 1 ? 99 : 7;
  auto model = policies::CausalLM::create(tiny_config(), seed);
  GrpoTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0), cfg);
  if (dp) trainer.set_data_parallel(std::shared_ptr<DataParallel>(dp, [](DataParallel*) {}));
  Trained out;
  for (int g = 0; g < 2; ++g) {
    for (const auto& m : trainer.train_on_generation(global_batch())) {
      EXPECT_EQ(m.values.at("step_applied"), 1.0);
      out.grad_norms.push_back(m.values.at("grad_norm"));
      out.losses.push_back(m.values.at("loss"));
    }
  }
  for (const auto& p : model->parameters()) out.parameters.push_back(p.detach().clone());
  return out;
}

// Rank 0 spends longer than the collectives' timeout before its next batch
// (as a long rollout or evaluation does): the other rank still receives it
// exactly, and then the stop. The timeout also bounds the ranks' connection
// at start-up: 1 s was too short for that on a loaded machine (a failure seen
// once on LibTorch 1.13 with 4 processes on 2 cores), so 2 s and twice that asleep.
TEST(GenerationBroadcast, OtherRanksWaitForRankZeroBeyondTheCollectiveTimeout) {
  std::vector<TrainSequence> sent = global_batch();
  sent[1].truncated = true;
  sent[2].rollout_logprobs = {-0.5f, -1.25f, -2.0f, -0.125f};  // its 4 completion tokens
  run_ranks(2, [&](DataParallel& dp) {
    if (dp.is_primary()) std::this_thread::sleep_for(std::chrono::milliseconds(4500));
    exchange_generation(dp, sent);
  }, /*bucket_bytes=*/25 << 20, /*timeout_s=*/2.0);
}

// NCCL needs one GPU per rank (it refuses two ranks on one device).
TEST(DataParallelCuda, NcclCollectivesOnTwoGpus) {
  if (!torch::cuda::is_available() || torch::cuda::device_count() < 2)
    GTEST_SKIP() << "NCCL data parallelism needs 2 CUDA devices, " << torch::cuda::device_count() << " visible";
  std::vector<TrainSequence> sent = global_batch();
  run_ranks(2, [&](DataParallel& dp) {
    ASSERT_EQ(dp.backend(), DpBackend::kNccl);
    const double r = dp.rank();
    // CPU values travel through the rank's GPU and come back.
    EXPECT_EQ(dp.all_reduce({r + 1, 10 * r}, Reduce::kSum), (std::vector<double>{3, 10}));
    EXPECT_EQ(dp.all_reduce({r}, Reduce::kMax)[0], 1.0);
    const torch::Device dev = dp.device();
    std::vector<torch::Tensor> params = {torch::zeros({3}, torch::dtype(torch::kFloat).device(dev).requires_grad(true)),
                                         torch::zeros({2, 5}, torch::dtype(torch::kBFloat16).device(dev).requires_grad(true))};
    params[0].mutable_grad() = torch::full({3}, r + 1, torch::TensorOptions().device(dev));
    params[1].mutable_grad() = (torch::arange(10, torch::kFloat).view({2, 5}) * (r + 1)).to(dev, torch::kBFloat16);
    dp.average_gradients(params);
    EXPECT_TRUE(params[0].grad().is_cuda());
    EXPECT_TRUE(torch::allclose(params[0].grad().cpu(), torch::full({3}, 1.5)));
    EXPECT_TRUE(torch::allclose(params[1].grad().cpu().to(torch::kFloat), torch::arange(10, torch::kFloat).view({2, 5}) * 1.5));
    torch::Tensor w = torch::full({4}, r + 7, torch::TensorOptions().device(dev));
    dp.broadcast_parameters({w});
    EXPECT_TRUE(torch::equal(w.cpu(), torch::full({4}, 7.0)));
    exchange_generation(dp, sent);
  }, /*bucket_bytes=*/16, /*timeout_s=*/120, /*cuda=*/true);
}

class TwoRanksMatchOne : public ::testing::TestWithParam<std::string> {};

TEST_P(TwoRanksMatchOne, SameParametersAsOneRankOnTheGlobalBatch) {
  const LearnerConfig cfg = dp_config(GetParam());
  const Trained single = train(cfg, nullptr);
  std::vector<Trained> ranks(2);
  run_ranks(2, [&](DataParallel& dp) { ranks[static_cast<size_t>(dp.rank())] = train(cfg, &dp); });
  const auto initial = policies::CausalLM::create(tiny_config(), 7)->parameters();
  double moved = 0;
  for (const Trained& rank : ranks) {
    ASSERT_EQ(rank.grad_norms.size(), 8u);
    for (size_t k = 0; k < single.grad_norms.size(); ++k) {
      // The first step sees identical weights: only the summation order differs. Later steps see weights that
      // differ by Adam-amplified fp32 rounding (below), so their losses and norms drift by as much.
      const double rel = k == 0 ? 1e-5 : 1e-4, abs_loss = k == 0 ? 1e-6 : 1e-5;
      EXPECT_NEAR(rank.grad_norms[k], single.grad_norms[k], rel * single.grad_norms[k]) << "step " << k;
      EXPECT_NEAR(rank.losses[k], single.losses[k], abs_loss) << "step " << k;
    }
  }
  for (size_t i = 0; i < single.parameters.size(); ++i) {
    moved = std::max(moved, (single.parameters[i] - initial[i]).abs().max().item<double>());
    // fp32 sums in another order, through 8 Adam steps (whose g/sqrt(v) grows
    // rounding in near-zero gradient entries) at lr 1e-2.
    for (int r = 0; r < 2; ++r) {
      const torch::Tensor& p = ranks[static_cast<size_t>(r)].parameters[i];
      EXPECT_TRUE(torch::allclose(p, single.parameters[i], /*rtol=*/1e-4, /*atol=*/5e-5))
          << "rank " << r << " parameter " << i << " differs by " << (p - single.parameters[i]).abs().max().item<double>();
    }
  }
  EXPECT_GT(moved, 1e-3) << "training did not move the parameters: the comparison would be vacuous";
}

INSTANTIATE_TEST_SUITE_P(Aggregations, TwoRanksMatchOne, ::testing::Values("grpo", "dr_grpo", "dapo", "bnpo"));

}  // namespace
}  // namespace grpo::learner
