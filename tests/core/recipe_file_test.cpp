#include "core/recipe_file.h"

#include <gtest/gtest.h>

#include "tests/support/test_env.h"

namespace grpo {
namespace {

using testing::TempDir;
using testing::write_file;

struct Section {
  double lr = 1.0;
  int steps = 1;
  template <class V> void fields(V& v) {
    v.field("lr", lr, "");
    v.field("steps", steps, "");
  }
};
struct Doc {
  Section learner;
  std::vector<std::string> tags;
  template <class V> void fields(V& v) {
    v.field("learner", learner, "");
    v.field("tags", tags, "");
  }
};

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(RecipeFileTest, ExtendsMergesObjectsAndReplacesLists) {
  TempDir d;
  write_file(d.file("base/base.json"), R"({"learner": {"lr": 0.5, "steps": 3}, "tags": ["a", "b"]})");
  write_file(d.file("child.json"), R"({"extends": "base/base.json", "learner": {"steps": 9}, "tags": ["c"]})");
  RecipeDocument doc = load_recipe_document(d.file("child.json"));
  Doc r = read_config<Doc>(doc.root, doc.origins);
  EXPECT_EQ(r.learner.lr, 0.5);
  EXPECT_EQ(r.learner.steps, 9);
  EXPECT_EQ(r.tags, std::vector<std::string>{"c"});
}

TEST(RecipeFileTest, ErrorsNameTheFileTheKeyCameFrom) {
  TempDir d;
  write_file(d.file("base.json"), R"({"learner": {"lr": "x"}})");
  write_file(d.file("child.json"), R"({"extends": "base.json", "learner": {"steps": 2}})");
  RecipeDocument doc = load_recipe_document(d.file("child.json"));
  EXPECT_EQ(config_error_of([&] { read_config<Doc>(doc.root, doc.origins); }),
            d.file("base.json") + ": learner.lr: expected a number, got string \"x\"");
}

TEST(RecipeFileTest, CyclesAreRejected) {
  TempDir d;
  write_file(d.file("a.json"), R"({"extends": "b.json"})");
  write_file(d.file("b.json"), R"({"extends": "a.json"})");
  std::string e = config_error_of([&] { load_recipe_document(d.file("a.json")); });
  EXPECT_NE(e.find("inheritance cycle"), std::string::npos) << e;
}

TEST(RecipeFileTest, MissingParentIsAnError) {
  TempDir d;
  write_file(d.file("a.json"), R"({"extends": "nope.json"})");
  EXPECT_EQ(config_error_of([&] { load_recipe_document(d.file("a.json")); }),
            d.file("a.json") + ": extends: file not found: " + d.file("nope.json"));
}

TEST(RecipeFileTest, SyntaxErrorsGiveLineAndColumn) {
  TempDir d;
  write_file(d.file("bad.json"), "{\n  \"learner\": {\n    \"lr\": ,\n  }\n}\n");
  std::string e = config_error_of([&] { load_recipe_document(d.file("bad.json")); });
  EXPECT_NE(e.find(d.file("bad.json") + ": invalid JSON at line 3"), std::string::npos) << e;
}

TEST(RecipeFileTest, OverridesAreTypedAndNamedInErrors) {
  TempDir d;
  write_file(d.file("r.json"), R"({"learner": {"lr": 0.5}})");
  RecipeDocument doc = load_recipe_document(d.file("r.json"));
  apply_override(doc, "learner.lr=1e-6");
  apply_override(doc, "tags=[\"x\",\"y\"]");
  Doc r = read_config<Doc>(doc.root, doc.origins);
  EXPECT_EQ(r.learner.lr, 1e-6);
  EXPECT_EQ(r.tags.size(), 2u);

  apply_override(doc, "learner.stepz=3");
  EXPECT_EQ(config_error_of([&] { read_config<Doc>(doc.root, doc.origins); }),
            "--set learner.stepz=3: learner.stepz: unknown key in 'learner' (did you mean 'steps'?)");
}

TEST(RecipeFileTest, OverrideWithoutEqualsIsAnError) {
  RecipeDocument doc;
  EXPECT_EQ(config_error_of([&] { apply_override(doc, "learner.lr"); }),
            "--set learner.lr: expected KEY=VALUE, e.g. --set learner.lr=1e-6");
}

TEST(RecipeFileTest, StringOverrideNeedsNoQuotes) {
  RecipeDocument doc;
  apply_override(doc, "run.name=my-run");
  EXPECT_EQ(doc.root["run"]["name"], "my-run");
}

}  // namespace
}  // namespace grpo
