// Parity with Hugging Face transformers per device and dtype: the tiny random
// checkpoints of hf_reference.py `make`, run by transformers and by us on the
// CPU and on a CUDA GPU (skipped where none is present), in float32 and in
// bfloat16. Tolerances (docs/gpu.md):
//   float32:  max |ours - transformers| <= 1e-4.
//   bfloat16: our bf16 logits are no further from transformers' float32
//             logits than twice transformers' own bf16 logits are, plus 1e-3
//             (bf16 keeps 8 significant bits: both implementations round, in
//             different places, so a fixed bound would be arbitrary).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <tuple>

#include "policies/causal_lm.h"
#include "policies/safetensors.h"
#include "tests/support/test_env.h"
#include "tests/policies/test_models.h"

namespace grpo::policies {
namespace {

using grpo::testing::TempDir;

const char* const kDeviceParityArchs[] = {"deepseek_v3", "qwen2"};

// Logits [B,T,V] float32 on the CPU of one checkpoint on one device.
struct DeviceLogits {
  torch::Tensor hf_fp32, hf_bf16, ours_fp32, ours_bf16;
  std::string error;
};

bool device_present(const std::string& device) { return device == "cpu" || torch::cuda::is_available(); }

torch::Tensor our_logits(const std::string& dir, const torch::Tensor& tokens, const std::string& device, torch::ScalarType dtype) {
  LoadOptions options;
  options.device = torch::Device(device);
  options.dtype = dtype;
  auto model = CausalLM::load(dir, options);
  model->eval();
  torch::NoGradGuard no_grad;
  return model->forward(tokens.to(options.device), {}).cpu();
}

class HfDeviceParity : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    const std::string script = grpo::testing::reference_python() + " " + grpo::testing::source_dir() + "/tests/policies/hf_reference.py ";
    auto r = grpo::testing::run_command(script + "make " + dir_->path() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    for (const std::string device : {"cpu", "cuda"}) {
      if (!device_present(device)) continue;
      std::string dirs;
      for (const char* arch : kDeviceParityArchs) dirs += " " + dir_->path() + "/" + arch;
      r = grpo::testing::run_command(script + "on " + device + dirs + " 2>&1");
      ASSERT_EQ(r.exit_code, 0) << r.out;
      for (const char* arch : kDeviceParityArchs) {
        DeviceLogits& o = outcomes_[{arch, device}];
        try {
          const std::string src = dir_->path() + "/" + arch;
          auto hf = read_safetensors(src + "/logits_" + device + ".safetensors", true);
          o.hf_fp32 = hf.at("fp32");
          o.hf_bf16 = hf.at("bf16");
          torch::Tensor tokens = read_safetensors(src + "/reference.safetensors", true).at("tokens");
          o.ours_fp32 = our_logits(src, tokens, device, torch::kFloat);
          o.ours_bf16 = our_logits(src, tokens, device, torch::kBFloat16);
        } catch (const std::exception& e) {
          o.error = e.what();
        }
      }
    }
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::unique_ptr<TempDir> dir_;
  static std::map<std::pair<std::string, std::string>, DeviceLogits> outcomes_;
};
std::unique_ptr<TempDir> HfDeviceParity::dir_;
std::map<std::pair<std::string, std::string>, DeviceLogits> HfDeviceParity::outcomes_;

using policies::testing::max_abs_diff;

TEST_P(HfDeviceParity, Float32AndBfloat16LogitsMatchTransformers) {
  const auto& [arch, device] = GetParam();
  if (!device_present(device)) GTEST_SKIP() << "no CUDA device: runs on a GPU machine (scripts/gpu-check.sh)";
  const DeviceLogits& o = outcomes_[{arch, device}];
  ASSERT_TRUE(o.error.empty()) << o.error;
  ASSERT_EQ(o.ours_fp32.sizes(), o.hf_fp32.sizes());
  EXPECT_GT(o.hf_fp32.std().item<double>(), 0.05) << "reference logits must not be trivially flat";
  EXPECT_LE(max_abs_diff(o.ours_fp32, o.hf_fp32), 1e-4) << arch << " fp32 on " << device;
  const double hf_rounding = max_abs_diff(o.hf_bf16, o.hf_fp32);
  const double ours_rounding = max_abs_diff(o.ours_bf16, o.hf_fp32);
  RecordProperty("fp32_max_abs_diff", std::to_string(max_abs_diff(o.ours_fp32, o.hf_fp32)));
  RecordProperty("bf16_ours_vs_hf_fp32", std::to_string(ours_rounding));
  RecordProperty("bf16_hf_vs_hf_fp32", std::to_string(hf_rounding));
  RecordProperty("bf16_ours_vs_hf_bf16", std::to_string(max_abs_diff(o.ours_bf16, o.hf_bf16)));
  EXPECT_GT(hf_rounding, 0.0) << "transformers' bf16 run must differ from fp32, or the bound means nothing";
  EXPECT_LE(ours_rounding, 2 * hf_rounding + 1e-3)
      << arch << " bf16 on " << device << ": ours " << ours_rounding << " from fp32, transformers' bf16 " << hf_rounding
      << ", ours vs transformers' bf16 " << max_abs_diff(o.ours_bf16, o.hf_bf16);
}

INSTANTIATE_TEST_SUITE_P(ArchsAndDevices, HfDeviceParity,
                         ::testing::Combine(::testing::Values(std::string("deepseek_v3"), std::string("qwen2")),
                                            ::testing::Values(std::string("cpu"), std::string("cuda"))),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

}  // namespace
}  // namespace grpo::policies
