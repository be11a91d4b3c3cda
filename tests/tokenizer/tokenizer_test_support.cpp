#include "tests/tokenizer/tokenizer_test_support.h"

#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "tests/support/test_env.h"

namespace grpo::testing {

std::string real_tokenizer(const std::string& name) {
  const std::string path = shared_dir() + "/data/tokenizers/" + name + "/tokenizer.json";
  std::ifstream probe(path);
  EXPECT_TRUE(probe.good()) << path << " is missing: the parity tests need the real tokenizer files of shared/";
  return path;
}

const policies::Tokenizer& qwen3_tokenizer() {
  static const policies::Tokenizer t = policies::Tokenizer::load(real_tokenizer("qwen3"));
  return t;
}

const policies::Tokenizer& deepseek_v3_tokenizer() {
  static const policies::Tokenizer t = policies::Tokenizer::load(real_tokenizer("deepseek_v3"));
  return t;
}

const std::string& hf_reference_dir() {
  // Lives until the process ends; TempDir removes it then.
  static std::unique_ptr<TempDir> dir;
  static std::string path;
  if (dir) return path;
  dir = std::make_unique<TempDir>();
  path = dir->path();
  const std::string cmd = reference_python() + " " + shell_quote(source_dir() + "/tests/tokenizer/hf_reference.py") + " " +
                          shell_quote(path) + " qwen3=" + shell_quote(real_tokenizer("qwen3")) +
                          " deepseek_v3=" + shell_quote(real_tokenizer("deepseek_v3"));
  const CommandResult r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
  return path;
}

std::vector<nlohmann::json> read_json_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace grpo::testing
