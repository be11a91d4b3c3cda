#include "core/recipe_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace grpo {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", "cannot open recipe file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "line L, column C" for a byte offset, so a syntax error points at the text.
std::string line_and_column(const std::string& text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

nlohmann::json parse_json(const std::string& text, const std::string& name) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string msg = e.what();
    size_t cut = msg.find("syntax error");
    throw ConfigError(name, "", "invalid JSON at " + line_and_column(text, e.byte == 0 ? 0 : e.byte - 1) + ": " +
                                    (cut == std::string::npos ? msg : msg.substr(cut)));
  }
}

void record_origins(const nlohmann::json& j, const std::string& path, const std::string& file, Origins& origins) {
  if (!path.empty()) origins.set(path, file);
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it)
    record_origins(it.value(), path.empty() ? it.key() : path + "." + it.key(), file, origins);
}

void merge_into(nlohmann::json& base, const nlohmann::json& child) {
  for (auto it = child.begin(); it != child.end(); ++it) {
    auto existing = base.find(it.key());
    if (existing != base.end() && existing->is_object() && it->is_object()) {
      merge_into(*existing, *it);
    } else {
      base[it.key()] = *it;
    }
  }
}

nlohmann::json resolve(const nlohmann::json& own, const std::string& name, const std::string& base_dir,
                       std::vector<std::string>& chain, Origins& origins) {
  if (!own.is_object()) throw ConfigError(name, "", "a recipe must be a JSON object");
  nlohmann::json merged = nlohmann::json::object();
  auto ext = own.find("extends");
  if (ext != own.end()) {
    if (!ext->is_string()) throw ConfigError(name, "extends", "expected a file name string");
    fs::path parent = fs::path(base_dir) / ext->get<std::string>();
    std::string parent_name = parent.lexically_normal().string();
    std::error_code ec;
    std::string canonical = fs::weakly_canonical(parent, ec).string();
    for (const auto& seen : chain) {
      if (seen == canonical) {
        std::string cycle;
        for (const auto& c : chain) cycle += c + " -> ";
        throw ConfigError(name, "extends", "inheritance cycle: " + cycle + canonical);
      }
    }
    if (!fs::exists(parent)) throw ConfigError(name, "extends", "file not found: " + parent_name);
    chain.push_back(canonical);
    nlohmann::json parent_json = parse_json(read_text(parent.string()), parent_name);
    merged = resolve(parent_json, parent_name, parent.parent_path().string(), chain, origins);
    chain.pop_back();
  }
  nlohmann::json body = own;
  body.erase("extends");
  record_origins(body, "", name, origins);
  merge_into(merged, body);
  return merged;
}

}  // namespace

RecipeDocument parse_recipe_document(const std::string& text, const std::string& name, const std::string& base_dir) {
  RecipeDocument doc;
  doc.file = name;
  doc.origins = Origins(name);
  std::vector<std::string> chain;
  std::error_code ec;
  chain.push_back(fs::weakly_canonical(fs::path(base_dir) / fs::path(name).filename(), ec).string());
  doc.root = resolve(parse_json(text, name), name, base_dir, chain, doc.origins);
  return doc;
}

RecipeDocument load_recipe_document(const std::string& path) {
  if (!fs::exists(path)) throw ConfigError(path, "", "recipe file not found");
  std::string dir = fs::path(path).parent_path().string();
  return parse_recipe_document(read_text(path), path, dir.empty() ? "." : dir);
}

void apply_override(RecipeDocument& doc, const std::string& assignment) {
  std::string source = "--set " + assignment;
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(source, "", "expected KEY=VALUE, e.g. --set learner.lr=1e-6");
  std::string key_path = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;
  }
  nlohmann::json* node = &doc.root;
  std::stringstream parts(key_path);
  std::string part, walked;
  std::vector<std::string> keys;
  while (std::getline(parts, part, '.')) {
    if (part.empty()) throw ConfigError(source, key_path, "empty component in key path");
    keys.push_back(part);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    walked = walked.empty() ? keys[i] : walked + "." + keys[i];
    if (!node->is_object()) throw ConfigError(source, walked, "cannot set a key inside a non-object value");
    if (i + 1 == keys.size()) {
      (*node)[keys[i]] = value;
    } else {
      node = &(*node)[keys[i]];
      if (node->is_null()) *node = nlohmann::json::object();
    }
  }
  doc.origins.set(key_path, source);
}

}  // namespace grpo
