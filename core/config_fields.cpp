#include "core/config_fields.h"

#include <algorithm>

namespace grpo {

std::string Origins::of(const std::string& key_path) const {
  std::string p = key_path;
  while (true) {
    auto it = by_path_.find(p);
    if (it != by_path_.end()) return it->second;
    size_t cut = p.find_last_of(".[");
    if (cut == std::string::npos) break;
    p = p.substr(0, cut);
  }
  auto it = by_path_.find(p);
  return it != by_path_.end() ? it->second : default_file_;
}

namespace config_detail {

std::string json_type_name(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "bool";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float: return "number";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "list";
    case nlohmann::json::value_t::object: return "object";
    default: return "value";
  }
}

std::string short_dump(const nlohmann::json& j) {
  std::string s = j.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace config_detail

void ConfigReader::choice(const char* key, std::string& value, const std::vector<std::string>& choices, const char* doc) {
  field(key, value, doc);
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  fail(join(key), "'" + value + "' is not one of: " + list + did_you_mean(value, choices));
}

void ConfigReader::check(bool ok, const char* key, const std::string& message) const {
  if (ok) return;
  std::string key_path = join(key);
  auto it = object_.find(key);
  std::string got = it == object_.end() ? "" : ", got " + config_detail::short_dump(*it);
  fail(key_path, message + got);
}

void ConfigReader::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (std::find(known_.begin(), known_.end(), it.key()) != known_.end()) continue;
    std::string hint = did_you_mean(it.key(), known_);
    std::string where = path_.empty() ? "the recipe" : "'" + path_ + "'";
    fail(join(it.key()), "unknown key in " + where + hint);
  }
}

void ConfigDocumenter::choice(const char* key, std::string& value, const std::vector<std::string>& choices, const char* doc) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  std::string path = path_.empty() ? std::string(key) : path_ + "." + key;
  out_->push_back({path, "one of: " + list, nlohmann::json(value).dump(), doc});
}

}  // namespace grpo
