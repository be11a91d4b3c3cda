// reward_params.cpp: see reward_params.h.
#include "rewards/reward_params.h"

#include "core/did_you_mean.h"
#include "core/error.h"

namespace grpo::rewards {

Params::Params(const RewardSpec& spec)
    : params_(spec.params.is_null() ? nlohmann::json::object() : spec.params),
      where_("rewards[" + (spec.name.empty() ? spec.type : spec.name) + "].params") {
  if (!params_.is_object()) throw ConfigError("", where_, "must be an object, got " + params_.dump());
}

const nlohmann::json* Params::find(const std::string& key) {
  read_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end() || it->is_null()) return nullptr;
  return &*it;
}

void Params::fail(const std::string& key, const std::string& message) const {
  throw ConfigError("", where_ + "." + key, message);
}

double Params::number(const std::string& key, double fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_number()) fail(key, "must be a number, got " + v->dump());
  return v->get<double>();
}

int64_t Params::integer(const std::string& key, int64_t fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_number_integer()) fail(key, "must be an integer, got " + v->dump());
  return v->get<int64_t>();
}

bool Params::boolean(const std::string& key, bool fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(key, "must be true or false, got " + v->dump());
  return v->get<bool>();
}

std::string Params::text(const std::string& key, const std::string& fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (!v->is_string()) fail(key, "must be a string, got " + v->dump());
  return v->get<std::string>();
}

std::vector<std::string> Params::text_list(const std::string& key, const std::vector<std::string>& fallback) {
  const nlohmann::json* v = find(key);
  if (!v) return fallback;
  if (v->is_string()) return {v->get<std::string>()};
  if (!v->is_array()) fail(key, "must be a list of strings, got " + v->dump());
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) fail(key, "must be a list of strings, got " + v->dump());
    out.push_back(item.get<std::string>());
  }
  return out;
}

void Params::finish() const {
  std::vector<std::string> known(read_.begin(), read_.end());
  for (auto it = params_.begin(); it != params_.end(); ++it) {
    if (!read_.count(it.key())) {
      std::string known_list;
      for (const auto& k : known) known_list += (known_list.empty() ? "" : ", ") + k;
      fail(it.key(), "unknown parameter" + did_you_mean(it.key(), known) + "; known: " + known_list);
    }
  }
}

}  // namespace grpo::rewards
