// tokenizer_test_support.h: what the tokenizer tests share: the real
// tokenizer files in shared/, and the Hugging Face reference outputs that
// hf_reference.py writes once per test process.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/tokenizer.h"

namespace grpo::testing {

// shared/data/tokenizers/<name>/tokenizer.json (fails the test when absent:
// these files are part of the checkout's shared data and CI has them).
std::string real_tokenizer(const std::string& name);
// The real Qwen3 and DeepSeek-V3 tokenizers, each loaded once per process.
const policies::Tokenizer& qwen3_tokenizer();
const policies::Tokenizer& deepseek_v3_tokenizer();

// Directory with hf_reference.py's outputs (built once, kept for the process).
const std::string& hf_reference_dir();

// Lines of a JSON-lines file.
std::vector<nlohmann::json> read_json_lines(const std::string& path);

}  // namespace grpo::testing
