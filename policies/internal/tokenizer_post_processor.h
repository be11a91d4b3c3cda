// tokenizer_post_processor.h: the `post_processor` and `decoder` entries of
// tokenizer.json. ByteLevel post-processing only trims offsets (no tokens);
// TemplateProcessing's "single" template adds special tokens around the text
// (Llama 3's BOS). The decoder must be ByteLevel (byte-level BPE).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace grpo::policies::internal {

struct PostProcessor {
  std::vector<int32_t> prefix;  // ids added before the text's ids
  std::vector<int32_t> suffix;  // ids added after

  // Throws grpo::Error naming the key for unsupported types.
  static PostProcessor from_json(const nlohmann::json& value, const std::string& where);
};

// Checks that `value` is a decoder this tokenizer implements (ByteLevel, or a
// Sequence holding one); throws grpo::Error naming the key otherwise.
void check_decoder(const nlohmann::json& value, const std::string& where);

}  // namespace grpo::policies::internal
