// tokenizer_normalizer.h: the `normalizer` of tokenizer.json. Supported:
// null, NFC, and Sequence of those (DeepSeek-V3's is an empty Sequence).
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace grpo::policies::internal {

class Normalizer {
 public:
  // Throws grpo::Error naming the key for unsupported types.
  static Normalizer from_json(const nlohmann::json& value, const std::string& where);
  bool identity() const { return !nfc_; }
  // Normalised copy of `text`.
  std::string apply(std::string_view text) const;

 private:
  static void add(Normalizer& n, const nlohmann::json& value, const std::string& where);
  bool nfc_ = false;
};

}  // namespace grpo::policies::internal
