// `grpo model init|info` end to end through the binary.
#include <gtest/gtest.h>

#include "policies/causal_lm.h"
#include "tests/support/test_env.h"

namespace grpo::policies {
namespace {

using grpo::testing::run_command;
using grpo::testing::TempDir;

TEST(ModelCommand, InitWritesALoadableCheckpointAndInfoDescribesIt) {
  TempDir dir;
  auto r = run_command(grpo::testing::grpo_binary() + " model init --arch deepseek_v3 --preset tiny --seed 3 --out " + dir.file("ds"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto model = CausalLM::load(dir.file("ds"));
  EXPECT_EQ(model->config().model_type, "deepseek_v3");
  EXPECT_EQ(model->config().n_routed_experts, 16);
  r = run_command(grpo::testing::grpo_binary() + " model info " + dir.file("ds"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ModelConfig c = model->config();
  EXPECT_NE(r.out.find("parameters total: " + std::to_string(c.total_parameters())), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters active per token: " + std::to_string(c.active_parameters_per_token())), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("experts: 16 routed (top 4"), std::string::npos) << r.out;
  // MLA: (kv_lora_rank 32 + rope 8) values x 3 layers x 2 bytes.
  EXPECT_NE(r.out.find("kv cache bytes per token: 240 (bf16)"), std::string::npos) << r.out;

  r = run_command(grpo::testing::grpo_binary() + " model init --arch qwen2 --preset tiny --dtype bfloat16 --out " + dir.file("q"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CausalLM::load(dir.file("q"))->config().model_type, "qwen2");
  r = run_command(grpo::testing::grpo_binary() + " model init --arch gpt2 --out " + dir.file("x"));
  EXPECT_EQ(r.exit_code, 2);
  r = run_command(grpo::testing::grpo_binary() + " model info " + dir.file("missing"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace grpo::policies
