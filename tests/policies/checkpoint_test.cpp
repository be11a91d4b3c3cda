// Checkpoints: save_hf -> load is bit-exact (single file and sharded), bf16
// on disk loads, and broken checkpoints fail with one clear error naming the
// file and tensors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/safetensors.h"
#include "tests/policies/test_models.h"
#include "tests/support/test_env.h"

namespace grpo::policies {
namespace {

using grpo::testing::TempDir;
namespace fs = std::filesystem;

void expect_same_tensors(CausalLM& a, CausalLM& b) {
  auto ta = a.checkpoint_tensors();
  auto tb = b.checkpoint_tensors();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].first, tb[i].first);
    EXPECT_TRUE(torch::equal(ta[i].second, tb[i].second)) << ta[i].first;
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const grpo::Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Checkpoint, RoundTripIsBitExactSingleAndSharded) {
  TempDir dir;
  for (ModelConfig c : {testing::tiny_deepseek(true, 1), testing::tiny_qwen2(), testing::tiny_llama()}) {
    auto model = CausalLM::create(c, 5, /*with_mtp=*/c.num_nextn_predict_layers > 0);
    {
      torch::NoGradGuard g;
      for (auto& [n, b] : testing::items(model->named_buffers())) b.copy_(torch::randn(b.sizes()));
    }
    model->save_hf(dir.file(c.model_type + "_single"));
    LoadOptions opts;
    opts.with_mtp = model->has_mtp();
    auto back = CausalLM::load(dir.file(c.model_type + "_single"), opts);
    expect_same_tensors(*model, *back);
    SaveOptions sharded;
    sharded.max_shard_bytes = 200000;
    model->save_hf(dir.file(c.model_type + "_sharded"), sharded);
    EXPECT_TRUE(fs::exists(dir.file(c.model_type + "_sharded/model.safetensors.index.json")));
    EXPECT_FALSE(fs::exists(dir.file(c.model_type + "_sharded/model.safetensors")));
    int shards = 0;
    for (const auto& entry : fs::directory_iterator(dir.file(c.model_type + "_sharded")))
      shards += entry.path().filename().string().rfind("model-0", 0) == 0 ? 1 : 0;
    EXPECT_GT(shards, 1);
    auto back2 = CausalLM::load(dir.file(c.model_type + "_sharded"), opts);
    expect_same_tensors(*model, *back2);
    if (c.tie_word_embeddings)
      EXPECT_FALSE(read_safetensors(dir.file(c.model_type + "_single/model.safetensors")).count("lm_head.weight"));
  }
}

TEST(Checkpoint, Bf16OnDiskLoadsAsFloat) {
  TempDir dir;
  auto model = CausalLM::create(testing::tiny_qwen2(), 1);
  SaveOptions o;
  o.dtype = torch::kBFloat16;
  model->save_hf(dir.path(), o);
  auto raw = read_safetensors(dir.file("model.safetensors"), /*keep_dtype=*/true);
  EXPECT_EQ(raw.at("model.embed_tokens.weight").scalar_type(), torch::kBFloat16);
  auto back = CausalLM::load(dir.path());
  auto a = model->named_parameters()["model.embed_tokens.weight"];
  auto b = back->named_parameters()["model.embed_tokens.weight"];
  EXPECT_EQ(b.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(a.to(torch::kBFloat16).to(torch::kFloat), b));
}

TEST(Checkpoint, MissingUnexpectedAndMisshapedTensorsAreListed) {
  TempDir dir;
  auto model = CausalLM::create(testing::tiny_deepseek(), 1);
  model->save_hf(dir.path());
  auto tensors = read_safetensors(dir.file("model.safetensors"), true);
  tensors.erase("model.layers.1.mlp.experts.3.up_proj.weight");
  tensors["model.layers.0.self_attn.extra.weight"] = torch::zeros({2});
  tensors["model.layers.2.self_attn.kv_b_proj.weight"] = torch::zeros({7, 3});
  tensors["model.layers.3.enorm.weight"] = torch::zeros({64});  // MTP layer: ignored like HF
  write_safetensors(dir.file("model.safetensors"), tensors);
  std::string e = error_of([&] { CausalLM::load(dir.path()); });
  EXPECT_NE(e.find("missing 1 tensor(s): model.layers.1.mlp.experts.3.up_proj.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("unexpected 1 tensor(s): model.layers.0.self_attn.extra.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("model.layers.2.self_attn.kv_b_proj.weight (file [7,3], model [128,32])"), std::string::npos) << e;
  EXPECT_NE(e.find(dir.path()), std::string::npos) << e;
}

TEST(Checkpoint, CorruptSafetensorsFilesAreRejectedWithTheReason) {
  TempDir dir;
  write_safetensors(dir.file("ok.safetensors"), {{"a", torch::arange(6, torch::kFloat).view({2, 3})}, {"b", torch::ones({3}, torch::kLong)}});
  std::string good = grpo::testing::read_file(dir.file("ok.safetensors"));
  auto parsed = read_safetensors(dir.file("ok.safetensors"), true);
  EXPECT_TRUE(torch::equal(parsed.at("a"), torch::arange(6, torch::kFloat).view({2, 3})));
  EXPECT_EQ(parsed.at("b").scalar_type(), torch::kLong);

  grpo::testing::write_file(dir.file("trunc.safetensors"), good.substr(0, good.size() - 5));
  EXPECT_NE(error_of([&] { read_safetensors(dir.file("trunc.safetensors")); }).find("truncated"), std::string::npos);
  grpo::testing::write_file(dir.file("short.safetensors"), good.substr(0, 4));
  EXPECT_NE(error_of([&] { read_safetensors(dir.file("short.safetensors")); }).find("truncated"), std::string::npos);
  std::string bad = good;
  bad[9] = '#';  // header JSON broken
  grpo::testing::write_file(dir.file("header.safetensors"), bad);
  EXPECT_NE(error_of([&] { read_safetensors(dir.file("header.safetensors")); }).find("bad safetensors header"), std::string::npos);
  std::string huge = good;
  huge[6] = 0x7f;  // header length far beyond 100 MB
  grpo::testing::write_file(dir.file("huge.safetensors"), huge);
  EXPECT_NE(error_of([&] { read_safetensors(dir.file("huge.safetensors")); }).find("exceeds 100 MB"), std::string::npos);
  std::string dtype = good;
  size_t at = dtype.find("\"I64\"");
  ASSERT_NE(at, std::string::npos);
  dtype.replace(at, 5, "\"X64\"");
  grpo::testing::write_file(dir.file("dtype.safetensors"), dtype);
  std::string e = error_of([&] { read_safetensors(dir.file("dtype.safetensors")); });
  EXPECT_NE(e.find("unknown or unsupported safetensors dtype 'X64'"), std::string::npos) << e;
  EXPECT_NE(e.find("tensor 'b'"), std::string::npos) << e;
  std::string overlap = good;
  at = overlap.find("[0,24]");  // a's offsets ("a" is F32 2x3 -> 24 bytes, written after the I64 tensor)
  if (at == std::string::npos) at = overlap.find("[24,48]");
  ASSERT_NE(at, std::string::npos) << good.substr(8, 200);
  overlap.replace(at, 6, overlap.substr(at, 6) == "[0,24]" ? "[4,28]" : "[20,44]");
  grpo::testing::write_file(dir.file("overlap.safetensors"), overlap);
  EXPECT_NE(error_of([&] { read_safetensors(dir.file("overlap.safetensors")); }).find("offsets"), std::string::npos);
}

TEST(Checkpoint, MissingFilesAndBadConfigAreClear) {
  TempDir dir;
  EXPECT_NE(error_of([&] { CausalLM::load(dir.path()); }).find("config.json"), std::string::npos);
  grpo::testing::write_file(dir.file("config.json"), ModelConfig::preset("qwen2", "tiny").to_json());
  EXPECT_NE(error_of([&] { CausalLM::load(dir.path()); }).find("no model.safetensors"), std::string::npos);
  grpo::testing::write_file(dir.file("config.json"), "{\"model_type\": \"gpt2\"}");
  EXPECT_NE(error_of([&] { CausalLM::load(dir.path()); }).find("unsupported model_type 'gpt2'"), std::string::npos);
  ModelConfig odd = ModelConfig::preset("deepseek_v3", "tiny");
  odd.qk_rope_head_dim = 7;
  EXPECT_NE(error_of([&] { odd.validate("x.json"); }).find("qk_rope_head_dim"), std::string::npos);
}

TEST(Checkpoint, GenerationConfigEosWinsOverConfigJson) {
  TempDir dir;
  ModelConfig c = testing::tiny_qwen2();
  c.eos_token_ids = {3};
  CausalLM::create(c, 1)->save_hf(dir.file("m"));
  EXPECT_EQ(CausalLM::load(dir.file("m"))->config().eos_token_ids, std::vector<int64_t>({3}));
  auto write_generation_config = [&](const std::string& text) {
    std::ofstream(dir.file("m/generation_config.json")) << text;
  };
  write_generation_config(R"({"eos_token_id": [5, 7], "do_sample": true})");
  EXPECT_EQ(CausalLM::load(dir.file("m"))->config().eos_token_ids, std::vector<int64_t>({5, 7}));
  write_generation_config(R"({"do_sample": true})");
  EXPECT_EQ(CausalLM::load(dir.file("m"))->config().eos_token_ids, std::vector<int64_t>({3}));
  write_generation_config(R"({"eos_token_id": "x"})");
  std::string e = error_of([&] { CausalLM::load(dir.file("m")); });
  EXPECT_NE(e.find("generation_config.json"), std::string::npos) << e;
  EXPECT_NE(e.find("eos_token_id"), std::string::npos) << e;
  write_generation_config(R"({"eos_token_id": 999999})");
  e = error_of([&] { CausalLM::load(dir.file("m")); });
  EXPECT_NE(e.find("outside the vocabulary"), std::string::npos) << e;
}

TEST(Checkpoint, ConfigJsonRoundTripsAndCountsParameters) {
  ModelConfig c = ModelConfig::preset("deepseek_v3", "tiny");
  ModelConfig back = ModelConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_NEAR(back.attention_scale(), c.attention_scale(), 1e-12);
  auto model = CausalLM::create(c, 0);
  int64_t n = 0;
  for (auto& p : model->parameters()) n += p.numel();
  EXPECT_EQ(c.total_parameters(), n);
  EXPECT_LT(c.active_parameters_per_token(), c.total_parameters());
  ModelConfig q = ModelConfig::preset("qwen2", "tiny");
  auto qm = CausalLM::create(q, 0);
  n = 0;
  for (auto& p : qm->parameters()) n += p.numel();
  EXPECT_EQ(q.total_parameters(), n);
  // V3 numbers from model-reference §1.4: scale = 192^-0.5 * m^2 = 0.1352338.
  ModelConfig v3 = c;
  v3.qk_nope_head_dim = 128;
  v3.qk_rope_head_dim = 64;
  v3.rope_scaling.factor = 40;
  EXPECT_NEAR(v3.attention_scale(), 0.1352338, 1e-6);
}

}  // namespace
}  // namespace grpo::policies
