// recipe_file.h: a recipe's JSON as written on disk, before typing: follows
// "extends" (relative to the file, cycles rejected), applies --set overrides,
// and remembers which file each key came from for error messages.
//
//   RecipeDocument doc = load_recipe_document("recipes/dapo.json");
//   apply_override(doc, "learner.lr=1e-6");
//   auto learner = read_config<LearnerConfig>(doc.root["learner"], doc.origins, "learner");
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/config_fields.h"

namespace grpo {

// A recipe's merged JSON and the origin of every key.
struct RecipeDocument {
  std::string file;  // the recipe named by the user
  nlohmann::json root = nlohmann::json::object();
  Origins origins;
};

// Parses `path` and everything it extends (the child's keys win; objects merge
// key by key, lists and scalars replace). Throws ConfigError naming the file
// (and line, for a JSON syntax error) or the cycle.
RecipeDocument load_recipe_document(const std::string& path);

// Parses recipe text that is not on disk (tests, `--recipe -`); "extends" is
// resolved relative to `base_dir`.
RecipeDocument parse_recipe_document(const std::string& text, const std::string& name, const std::string& base_dir);

// Applies "a.b.c=VALUE": VALUE is parsed as JSON when it is valid JSON
// (numbers, true, [1,2], "quoted"), else taken as a string. Creates missing
// objects; the typed read afterwards rejects keys that do not exist.
void apply_override(RecipeDocument& doc, const std::string& assignment);

}  // namespace grpo
