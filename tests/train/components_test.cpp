// load_policy (train/components.h) honours model.device and model.dtype: the
// weights come out in the compute dtype with the MoE routing bias kept float32,
// and a device the process cannot use is a ConfigError naming model.device.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/test_env.h"
#include "train/components.h"

namespace grpo::train {
namespace {

policies::ModelSpec tiny_spec(const std::string& arch) {
  policies::ModelSpec spec;
  spec.init_arch = arch;
  spec.init_preset = "tiny";
  return spec;
}

// A checkpoint with routing biases that bf16 cannot represent exactly:
// loaded in bfloat16 the weights are the rounded float32 ones, the biases exact.
TEST(LoadPolicyTest, Bfloat16PolicyIsTheRoundedFloat32OneWithFloat32RoutingBias) {
  grpo::testing::TempDir dir;
  {
    auto model = load_policy(tiny_spec("deepseek_v3"), /*seed=*/5);
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_buffers())
      if (item.key().find("e_score_correction_bias") != std::string::npos) item.value().normal_(0.0, 0.05);
    model->save_hf(dir.path());
  }
  policies::ModelSpec spec;
  spec.path = dir.path();
  auto f32 = load_policy(spec, 0);
  spec.dtype = "bfloat16";
  auto bf16 = load_policy(spec, 0);
  auto params = f32->named_parameters();
  for (const auto& item : bf16->named_parameters()) {
    EXPECT_EQ(item.value().scalar_type(), torch::kBFloat16) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), params[item.key()].to(torch::kBFloat16))) << item.key();
  }
  auto buffers = f32->named_buffers();
  int biases = 0;
  for (const auto& item : bf16->named_buffers()) {
    if (item.key().find("e_score_correction_bias") == std::string::npos) continue;
    EXPECT_EQ(item.value().scalar_type(), torch::kFloat) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), buffers[item.key()])) << item.key() << " was rounded";
    EXPECT_FALSE(torch::equal(item.value(), item.value().to(torch::kBFloat16).to(torch::kFloat))) << "bf16 would round it";
    ++biases;
  }
  EXPECT_GT(biases, 0);
}

std::string device_error(const std::string& device) {
  policies::ModelSpec spec = tiny_spec("qwen2");
  spec.device = device;
  try {
    load_policy(spec, 0);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "model.device");
    return e.what();
  }
  return "";
}

TEST(LoadPolicyTest, MalformedDeviceIsAConfigError) {
  EXPECT_NE(device_error("cuda:one").find("expected \"cpu\", \"cuda\" or \"cuda:N\""), std::string::npos);
}

TEST(LoadPolicyTest, CudaPolicyOrAClearErrorWithoutOne) {
  if (torch::cuda::is_available()) {
    policies::ModelSpec spec = tiny_spec("qwen2");
    spec.device = "cuda";
    EXPECT_TRUE(load_policy(spec, 0)->parameters().front().is_cuda());
  } else {
    EXPECT_NE(device_error("cuda").find("model.device"), std::string::npos);
  }
}

}  // namespace
}  // namespace grpo::train
