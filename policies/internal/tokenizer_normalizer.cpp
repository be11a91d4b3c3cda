#include "policies/internal/tokenizer_normalizer.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policies/internal/tokenizer_nfc.h"

namespace grpo::policies::internal {

Normalizer Normalizer::from_json(const nlohmann::json& value, const std::string& where) {
  Normalizer n;
  if (!value.is_null()) add(n, value, where);
  return n;
}

void Normalizer::add(Normalizer& n, const nlohmann::json& v, const std::string& where) {
  const std::string type = v.is_object() ? v.value("type", std::string()) : std::string();
  if (type == "Sequence") {
    const auto it = v.find("normalizers");
    if (it == v.end() || !it->is_array()) throw Error("tokenizer.json: " + where + ".normalizers: a Sequence needs an array");
    for (size_t i = 0; i < it->size(); ++i) add(n, (*it)[i], where + ".normalizers[" + std::to_string(i) + "]");
  } else if (type == "NFC") {
    n.nfc_ = true;
  } else {
    throw Error("tokenizer.json: " + where + ".type: unsupported normalizer \"" + type + "\"; supported: NFC, Sequence (or null)");
  }
}

std::string Normalizer::apply(std::string_view text) const { return nfc_ ? nfc(text) : std::string(text); }

}  // namespace grpo::policies::internal
