#include "core/config_fields.h"

#include <gtest/gtest.h>

#include <optional>

namespace grpo {
namespace {

struct Inner {
  int k = 3;
  template <class V> void fields(V& v) {
    v.field("k", k, "an int");
    v.check(k >= 0, "k", "must be >= 0");
  }
};

struct Sample {
  double lr = 1e-6;
  int steps = 10;
  bool flag = false;
  std::string mode = "a";
  std::optional<double> high;
  std::vector<std::string> stops;
  Inner inner;
  std::vector<Inner> list;
  nlohmann::json params = nlohmann::json::object();
  template <class V> void fields(V& v) {
    v.field("lr", lr, "learning rate");
    v.field("steps", steps, "steps");
    v.field("flag", flag, "a flag");
    v.choice("mode", mode, {"a", "b"}, "mode");
    v.field("high", high, "optional");
    v.field("stops", stops, "strings");
    v.field("inner", inner, "nested");
    v.field("list", list, "nested list");
    v.field("params", params, "free form");
    v.check(lr > 0, "lr", "must be > 0");
  }
};

Sample read(const std::string& text) {
  return read_config<Sample>(nlohmann::json::parse(text), Origins("r.json"));
}

std::string read_error_of(const std::string& text) {
  try {
    read(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConfigFieldsTest, DefaultsStayWhenKeysAreAbsent) {
  Sample s = read("{}");
  EXPECT_EQ(s.lr, 1e-6);
  EXPECT_EQ(s.steps, 10);
  EXPECT_FALSE(s.high.has_value());
}

TEST(ConfigFieldsTest, ReadsEveryFieldType) {
  Sample s = read(R"({"lr": 2, "steps": 5, "flag": true, "mode": "b", "high": 0.28, "stops": ["x"],
                      "inner": {"k": 7}, "list": [{"k": 1}, {}], "params": {"any": [1]}})");
  EXPECT_EQ(s.lr, 2.0);
  EXPECT_EQ(s.steps, 5);
  EXPECT_TRUE(s.flag);
  EXPECT_EQ(s.mode, "b");
  EXPECT_EQ(*s.high, 0.28);
  EXPECT_EQ(s.stops, std::vector<std::string>{"x"});
  EXPECT_EQ(s.inner.k, 7);
  ASSERT_EQ(s.list.size(), 2u);
  EXPECT_EQ(s.list[1].k, 3);
  EXPECT_EQ(s.params["any"][0], 1);
}

TEST(ConfigFieldsTest, UnknownKeySuggestsTheNearOne) {
  EXPECT_EQ(read_error_of(R"({"lrr": 1})"), "r.json: lrr: unknown key in the recipe (did you mean 'lr'?)");
  EXPECT_EQ(read_error_of(R"({"inner": {"kk": 1}})"), "r.json: inner.kk: unknown key in 'inner' (did you mean 'k'?)");
}

TEST(ConfigFieldsTest, WrongTypesNameTheKeyAndTheValue) {
  EXPECT_EQ(read_error_of(R"({"lr": "fast"})"), "r.json: lr: expected a number, got string \"fast\"");
  EXPECT_EQ(read_error_of(R"({"steps": 1.5})"), "r.json: steps: expected an integer, got number 1.5");
  EXPECT_EQ(read_error_of(R"({"flag": 1})"), "r.json: flag: expected true or false, got integer 1");
  EXPECT_EQ(read_error_of(R"({"stops": "x"})"), "r.json: stops: expected a list, got string \"x\"");
  EXPECT_EQ(read_error_of(R"({"list": [{"k": "z"}]})"), "r.json: list[0].k: expected an integer, got string \"z\"");
  EXPECT_EQ(read_error_of(R"({"steps": 99999999999})"), "r.json: steps: integer 99999999999 is out of range");
}

TEST(ConfigFieldsTest, ChecksRejectOutOfRangeValues) {
  EXPECT_EQ(read_error_of(R"({"lr": -1})"), "r.json: lr: must be > 0, got -1");
  EXPECT_EQ(read_error_of(R"({"inner": {"k": -2}})"), "r.json: inner.k: must be >= 0, got -2");
  EXPECT_EQ(read_error_of(R"({"mode": "bb"})"), "r.json: mode: 'bb' is not one of: a, b (did you mean 'b'?)");
}

TEST(ConfigFieldsTest, WriterEmitsEveryFieldWithDefaults) {
  nlohmann::json j = write_config(Sample{});
  EXPECT_EQ(j["lr"], 1e-6);
  EXPECT_TRUE(j["high"].is_null());
  EXPECT_EQ(j["inner"]["k"], 3);
  // What the writer emits reads back to the same values.
  EXPECT_EQ(write_config(read_config<Sample>(j, Origins("x"))), j);
}

TEST(ConfigFieldsTest, DocumenterListsNestedKeys) {
  auto docs = document_config<Sample>();
  std::vector<std::string> paths;
  for (const auto& d : docs) paths.push_back(d.key_path);
  EXPECT_NE(std::find(paths.begin(), paths.end(), "inner.k"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "list[].k"), paths.end());
  EXPECT_EQ(docs[0].type, "number");
  EXPECT_EQ(docs[3].type, "one of: a, b");
}

}  // namespace
}  // namespace grpo
