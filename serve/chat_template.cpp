#include "serve/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace grpo::serve {

namespace {

namespace fs = std::filesystem;

// The chat_template text of tokenizer_config.json beside the tokenizer; empty if none.
std::string config_chat_template(const std::string& tokenizer_path) {
  fs::path dir = fs::is_directory(tokenizer_path) ? fs::path(tokenizer_path) : fs::path(tokenizer_path).parent_path();
  fs::path file = dir / "tokenizer_config.json";
  if (!fs::exists(file)) return "";
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto config = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) throw IoError(file.string(), "not a JSON object");
  if (!config.contains("chat_template")) return "";
  const auto& t = config["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  // Some checkpoints list named templates: [{"name": "default", "template": ...}, ...].
  if (t.is_array())
    for (const auto& named : t)
      if (named.is_object() && named.value("name", "") == "default" && named.contains("template")) return named["template"].get<std::string>();
  return "";
}

}  // namespace

policies::TemplateSpec detect_chat_template(const std::string& tokenizer_path, const policies::Tokenizer& tokenizer) {
  policies::TemplateSpec spec;
  std::string jinja = config_chat_template(tokenizer_path);
  if (jinja.find("<|im_start|>") != std::string::npos) spec.name = "chatml";
  else if (jinja.find("<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>") != std::string::npos) spec.name = "deepseek";  // <｜Assistant｜>
  else if (tokenizer.token_to_id("<|im_start|>") && tokenizer.token_to_id("<|im_end|>")) spec.name = "chatml";
  else spec.name = "r1_zero";
  return spec;
}

}  // namespace grpo::serve
