// The GGUF reader and dequantisation against the `gguf` Python package
// (llama.cpp's gguf-py): a synthetic file written by gguf.GGUFWriter with every
// metadata value type and one tensor per supported block type (dequantised by
// gguf.quants), real tensors of SmolLM2-135M-Instruct.Q4_1.gguf, and clear
// errors on truncated, corrupt and unsupported files.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policies/gguf.h"
#include "policies/gguf_import.h"
#include "policies/safetensors.h"
#include "tests/support/test_env.h"

namespace grpo::policies {
namespace {

using grpo::testing::read_file;
using grpo::testing::run_command;
using grpo::testing::TempDir;
using grpo::testing::write_file;
using nlohmann::json;

std::string reference_script() {
  return grpo::testing::reference_python() + " " + grpo::testing::source_dir() + "/tests/policies/gguf_reference.py ";
}

// The message of the grpo::Error that `fn` throws ("" when none).
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class GgufSynthetic : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    auto r = run_command(reference_script() + "synthetic " + dir_->path() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    bytes_ = read_file(dir_->file("synthetic.gguf"));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // A copy of synthetic.gguf with `edit` applied, written to `name`.
  static std::string variant(const std::string& name, const std::function<void(std::string&)>& edit) {
    std::string b = bytes_;
    edit(b);
    write_file(dir_->file(name), b);
    return dir_->file(name);
  }
  // Offset of the bytes right after the string `s` in the file.
  static size_t after(const std::string& s) {
    size_t at = bytes_.find(s);
    EXPECT_NE(at, std::string::npos) << s;
    return at + s.size();
  }
  template <class T>
  static void put(std::string& b, size_t at, T v) {
    std::memcpy(&b[at], &v, sizeof v);
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string bytes_;
};
std::unique_ptr<TempDir> GgufSynthetic::dir_;
std::string GgufSynthetic::bytes_;

TEST_F(GgufSynthetic, ReadsMetadataOfEveryValueTypeAndTensorOffsetsAsGgufPy) {
  GgufFile f = GgufFile::open(dir_->file("synthetic.gguf"));
  json ref = json::parse(read_file(dir_->file("synthetic_meta.json")));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  for (const char* key : {"test.u8", "test.i8", "test.u16", "test.i16", "test.u32", "test.i32", "test.i64", "test.bool", "test.str",
                          "test.arr_i32", "test.arr_str", "test.f64"})
    EXPECT_EQ(f.metadata().at(key), ref.at(key)) << key;
  EXPECT_EQ(std::to_string(f.metadata().at("test.u64").get<uint64_t>()), ref.at("test.u64").get<std::string>());
  EXPECT_EQ(f.get_float("test.f32", 0), ref.at("test.f32").get<double>());  // the float32 value, widened
  EXPECT_EQ(f.get_int("test.i8"), -100);
  EXPECT_EQ(f.get_int("missing.key", 5), 5);
  EXPECT_NE(error_of([&] { f.get_int("test.str"); }).find("metadata 'test.str' must be an integer"), std::string::npos);
  EXPECT_NE(error_of([&] { f.get_string("nope"); }).find("metadata 'nope' is missing"), std::string::npos);
  ASSERT_EQ(f.tensors().size(), ref.at("tensors").size());
  for (const GgufTensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.offset, ref["tensors"][t.name]["offset"].get<uint64_t>()) << t.name;
    EXPECT_EQ(t.offset % 64, 0u) << t.name;
  }
}

TEST_F(GgufSynthetic, DequantisesEveryBlockTypeBitIdenticallyToGgufPy) {
  GgufFile f = GgufFile::open(dir_->file("synthetic.gguf"));
  auto ref = read_safetensors(dir_->file("synthetic_ref.safetensors"), true);
  ASSERT_EQ(ref.size(), 6u);
  for (const auto& [name, want] : ref) {
    torch::Tensor got = f.read_tensor(name);
    ASSERT_EQ(got.sizes(), want.sizes()) << name;
    EXPECT_EQ(got.scalar_type(), torch::kFloat) << name;
    EXPECT_TRUE(torch::equal(got, want)) << name << ": max diff " << (got - want).abs().max().item<double>();
    EXPECT_GT(want.abs().max().item<double>(), 1.0) << name << ": reference must not be trivially zero";
  }
}

TEST_F(GgufSynthetic, ReadsVersion2LikeVersion3) {
  // v2 and v3 share the layout (v3 only added big-endian files).
  GgufFile f = GgufFile::open(variant("v2.gguf", [](std::string& b) { put<uint32_t>(b, 4, 2); }));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_TRUE(torch::equal(f.read_tensor("q4_1"), GgufFile::open(dir_->file("synthetic.gguf")).read_tensor("q4_1")));
}

TEST_F(GgufSynthetic, TruncatedFilesFailNamingWhatIsCut) {
  GgufFile whole = GgufFile::open(dir_->file("synthetic.gguf"));
  // The last tensor's last byte (the writer pads the file after it; padding
  // after the last tensor is not required).
  const GgufTensorInfo* last = whole.find_tensor("q4_1");
  const size_t data_end = size_t(last->offset + last->bytes);
  const size_t cuts[] = {0, 3, 10, 30, after("test.str") + 3, size_t(whole.data_offset()) - 40, size_t(whole.data_offset()) + 100,
                         data_end - 1};
  for (size_t cut : cuts) {
    const std::string path = variant("cut.gguf", [&](std::string& b) { b.resize(cut); });
    std::string err = error_of([&] { GgufFile::open(path); });
    EXPECT_NE(err.find(path), std::string::npos) << cut << ": " << err;
    EXPECT_NE(err.find("truncated"), std::string::npos) << cut << ": " << err;
  }
  // Where it is cut shows: inside the tensor data the message names the tensor.
  const std::string path = variant("cut.gguf", [&](std::string& b) { b.resize(data_end - 1); });
  EXPECT_NE(error_of([&] { GgufFile::open(path); }).find("tensor 'q4_1' (Q4_1"), std::string::npos);
  EXPECT_NE(error_of([&] { GgufFile::open(dir_->file("absent.gguf")); }).find("cannot open"), std::string::npos);
}

TEST_F(GgufSynthetic, CorruptHeadersFailClearly) {
  auto expect = [&](const std::string& name, const std::function<void(std::string&)>& edit, const std::string& needle) {
    const std::string path = variant(name, edit);
    std::string err = error_of([&] { GgufFile::open(path); });
    EXPECT_NE(err.find(needle), std::string::npos) << name << ": " << err;
    EXPECT_NE(err.find(path), std::string::npos) << name << ": " << err;
  };
  expect("magic.gguf", [](std::string& b) { b[0] = 'X'; }, "not a GGUF file");
  expect("v1.gguf", [](std::string& b) { put<uint32_t>(b, 4, 1); }, "GGUF version 1 is not supported");
  expect("v99.gguf", [](std::string& b) { put<uint32_t>(b, 4, 99); }, "unsupported GGUF version 99");
  expect("count.gguf", [](std::string& b) { put<uint64_t>(b, 16, uint64_t(1) << 40); }, "header claims 1099511627776 metadata entries");
  expect("valtype.gguf", [&](std::string& b) { put<uint32_t>(b, after("test.u8"), 77); }, "metadata 'test.u8': unknown value type 77");
  expect("strlen.gguf", [&](std::string& b) { put<uint64_t>(b, after("test.str") + 4, uint64_t(1) << 60); },
         "metadata 'test.str' claims 1152921504606846976 bytes");
  // Tensor info of q4_1 (2 dims): u32 n_dims, u64 dims[2], u32 type, u64 offset.
  const size_t info = after("q4_1");
  expect("ndims.gguf", [&](std::string& b) { put<uint32_t>(b, info, 7); }, "tensor 'q4_1' has 7 dimensions");
  expect("gtype.gguf", [&](std::string& b) { put<uint32_t>(b, info + 4 + 16, 250); }, "tensor 'q4_1': unknown ggml type id 250");
  expect("row.gguf", [&](std::string& b) { put<uint64_t>(b, info + 4, 48); }, "row length 48 is not a multiple of the Q4_1 block size 32");
  expect("align.gguf", [&](std::string& b) { put<uint64_t>(b, info + 4 + 16 + 4, 896 + 8); }, "is not a multiple of the alignment 64");
  expect("offset.gguf", [&](std::string& b) { put<uint64_t>(b, info + 4 + 16 + 4, uint64_t(1) << 20); }, "tensor 'q4_1' (Q4_1");
}

TEST_F(GgufSynthetic, UnsupportedTypeNamesTheTensorAndTheType) {
  GgufFile f = GgufFile::open(dir_->file("unsupported.gguf"));
  ASSERT_EQ(f.tensors().size(), 2u);
  std::string err = error_of([&] { f.read_tensor("blk.0.attn_q.weight"); });
  EXPECT_NE(err.find("tensor 'blk.0.attn_q.weight' has ggml type Q5_0"), std::string::npos) << err;
  EXPECT_NE(err.find("supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1"), std::string::npos) << err;
  EXPECT_EQ(f.read_tensor("token_embd.weight").sizes(), torch::IntArrayRef({32, 64}));
  // The command fails with the same message (exit 1) and writes no checkpoint.
  auto r = run_command(grpo::testing::grpo_binary() + " model import-gguf " + dir_->file("unsupported.gguf") + " --out " + dir_->file("q5"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(err), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_->file("q5/model.safetensors")));
}

TEST_F(GgufSynthetic, ImportRefusesFilesThatAreNotLlamaCheckpoints) {
  GgufFile s = GgufFile::open(dir_->file("synthetic.gguf"));
  ModelConfig c = ModelConfig::preset("llama", "tiny");
  EXPECT_NE(error_of([&] { gguf_llama_tensors(s, c); }).find("tensor 'f32' has no place in a Llama model"), std::string::npos);
  EXPECT_NE(error_of([&] { gguf_llama_config(s); }).find("metadata 'llama.embedding_length' is missing"), std::string::npos);
  const std::string other = variant("arch.gguf", [](std::string& b) { b.replace(b.find("llama"), 5, "gemma"); });
  EXPECT_NE(error_of([&] { gguf_llama_config(GgufFile::open(other)); }).find("general.architecture: 'gemma' is not supported"),
            std::string::npos);
  const std::string cut = variant("cut.gguf", [](std::string& b) { b.resize(100); });
  auto r = run_command(grpo::testing::grpo_binary() + " model import-gguf " + cut + " --out " + dir_->file("cut"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(cut + ": truncated"), std::string::npos) << r.err;
}

TEST(GgufSmolLM2, DequantisesRealTensorsBitIdenticallyToGgufPy) {
  TempDir dir;
  auto r = run_command(reference_script() + "smollm-path 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string path = r.out.substr(0, r.out.find('\n'));
  r = run_command(reference_script() + "real " + path + " " + dir.path() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.tensors().size(), 272u);
  auto ref = read_safetensors(dir.file("real_ref.safetensors"), true);
  ASSERT_EQ(ref.size(), 6u);  // Q8_0 embedding, Q4_1 projections, F32 norms
  for (const auto& [name, want] : ref) {
    torch::Tensor got = f.read_tensor(name);
    ASSERT_EQ(got.sizes(), want.sizes()) << name;
    EXPECT_TRUE(torch::equal(got, want)) << name << ": max diff " << (got - want).abs().max().item<double>();
  }
}

}  // namespace
}  // namespace grpo::policies
