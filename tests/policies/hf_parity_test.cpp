// Parity with Hugging Face transformers: checkpoints saved by transformers load
// here with the same logits, and checkpoints we save load in transformers with
// the same logits (fp32, max abs diff <= 1e-4). The Python side runs twice per
// suite (make all references, then check all of our saves) to keep it fast.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "policies/causal_lm.h"
#include "policies/safetensors.h"
#include "tests/support/test_env.h"

namespace grpo::policies {
namespace {

using grpo::testing::TempDir;

const char* const kParityArchs[] = {"deepseek_v3", "deepseek_v3_noq", "qwen2", "llama"};

struct Outcome {
  torch::Tensor hf_logits;    // transformers on its own checkpoint
  torch::Tensor our_logits;   // us on the transformers checkpoint
  torch::Tensor hf_on_ours;   // transformers on our save_hf
  std::string error;
};

class HfParity : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    const std::string script = grpo::testing::reference_python() + " " + grpo::testing::source_dir() + "/tests/policies/hf_reference.py ";
    auto r = grpo::testing::run_command(script + "make " + dir_->path() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    std::string ours;
    for (const char* arch : kParityArchs) {
      Outcome& o = outcomes_[arch];
      try {
        const std::string src = dir_->path() + "/" + arch;
        auto ref = read_safetensors(src + "/reference.safetensors", true);
        o.hf_logits = ref.at("logits");
        auto model = CausalLM::load(src);
        model->eval();
        torch::NoGradGuard no_grad;
        o.our_logits = model->forward(ref.at("tokens"), {});
        const std::string out = dir_->path() + "/" + arch + "_ours";
        model->save_hf(out);
        write_safetensors(out + "/tokens.safetensors", {{"tokens", ref.at("tokens")}});
        ours += " " + out;
      } catch (const std::exception& e) {
        o.error = e.what();
      }
    }
    r = grpo::testing::run_command(script + "check" + ours + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    for (const char* arch : kParityArchs)
      if (outcomes_[arch].error.empty())
        outcomes_[arch].hf_on_ours = read_safetensors(dir_->path() + "/" + arch + "_ours/hf_logits.safetensors").at("logits");
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::unique_ptr<TempDir> dir_;
  static std::map<std::string, Outcome> outcomes_;
};
std::unique_ptr<TempDir> HfParity::dir_;
std::map<std::string, Outcome> HfParity::outcomes_;

TEST_P(HfParity, SameLogitsAsTransformersBothWays) {
  const Outcome& o = outcomes_[GetParam()];
  ASSERT_TRUE(o.error.empty()) << o.error;
  ASSERT_EQ(o.our_logits.sizes(), o.hf_logits.sizes());
  EXPECT_GT(o.hf_logits.std().item<double>(), 0.05) << "reference logits must not be trivially flat";
  EXPECT_LE((o.our_logits - o.hf_logits).abs().max().item<double>(), 1e-4) << "ours on the transformers checkpoint";
  ASSERT_TRUE(o.hf_on_ours.defined());
  EXPECT_LE((o.hf_on_ours - o.our_logits).abs().max().item<double>(), 1e-4) << "transformers on our save_hf";
}

INSTANTIATE_TEST_SUITE_P(Archs, HfParity, ::testing::Values(std::string("deepseek_v3"), std::string("deepseek_v3_noq"), std::string("qwen2"), std::string("llama")));

}  // namespace
}  // namespace grpo::policies
