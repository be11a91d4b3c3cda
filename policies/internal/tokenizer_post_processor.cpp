#include "policies/internal/tokenizer_post_processor.h"

#include <nlohmann/json.hpp>

#include "policies/internal/tokenizer_json_error.h"

namespace grpo::policies::internal {
namespace {

void add_template(PostProcessor& p, const nlohmann::json& v, const std::string& where) {
  const auto single = v.find("single");
  if (single == v.end() || !single->is_array()) tokenizer_json_fail(where + ".single", "TemplateProcessing needs a \"single\" array");
  const nlohmann::json specials = v.value("special_tokens", nlohmann::json::object());
  bool after_text = false;
  for (size_t i = 0; i < single->size(); ++i) {
    const nlohmann::json& item = (*single)[i];
    const std::string at = where + ".single[" + std::to_string(i) + "]";
    if (item.contains("Sequence")) {
      after_text = true;
      continue;
    }
    if (!item.contains("SpecialToken")) tokenizer_json_fail(at, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    const std::string name = item["SpecialToken"].value("id", std::string());
    const auto tok = specials.find(name);
    if (tok == specials.end() || !tok->contains("ids"))
      tokenizer_json_fail(at, "special token \"" + name + "\" is not in " + where + ".special_tokens");
    for (const auto& id : (*tok)["ids"]) (after_text ? p.suffix : p.prefix).push_back(id.get<int32_t>());
  }
}

void add(PostProcessor& p, const nlohmann::json& v, const std::string& where) {
  const std::string type = v.is_object() ? v.value("type", std::string()) : std::string();
  if (type == "ByteLevel") return;  // offsets only
  if (type == "TemplateProcessing") return add_template(p, v, where);
  if (type == "Sequence") {
    const auto it = v.find("processors");
    if (it == v.end() || !it->is_array()) tokenizer_json_fail(where + ".processors", "a Sequence needs an array");
    for (size_t i = 0; i < it->size(); ++i) add(p, (*it)[i], where + ".processors[" + std::to_string(i) + "]");
    return;
  }
  tokenizer_json_fail(where + ".type", "unsupported post-processor \"" + type + "\"; supported: ByteLevel, TemplateProcessing, Sequence (or null)");
}

bool has_byte_level(const nlohmann::json& v) {
  if (!v.is_object()) return false;
  const std::string type = v.value("type", std::string());
  if (type == "ByteLevel") return true;
  if (type == "Sequence" && v.contains("decoders") && v["decoders"].is_array())
    for (const auto& d : v["decoders"])
      if (has_byte_level(d)) return true;
  return false;
}

}  // namespace

PostProcessor PostProcessor::from_json(const nlohmann::json& value, const std::string& where) {
  PostProcessor p;
  if (!value.is_null()) add(p, value, where);
  return p;
}

void check_decoder(const nlohmann::json& value, const std::string& where) {
  if (!has_byte_level(value))
    tokenizer_json_fail(where, "decoder must be ByteLevel (byte-level BPE); got " + (value.is_null() ? std::string("null") : value.dump().substr(0, 80)));
}

}  // namespace grpo::policies::internal
