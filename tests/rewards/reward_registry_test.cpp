// Tests of the reward registry: built-ins, unknown types, params checking and
// the one-line registration of a program's own reward.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/reward_registry.h"

namespace grpo::rewards {
namespace {

// A program's own reward, registered with one line (GRPO_REGISTER_REWARD).
class ContainsWordReward : public Reward {
 public:
  explicit ContainsWordReward(const RewardSpec& spec) : word_(spec.params.value("word", "yes")) {}
  RewardResult score(const Sample& s) const override {
    return RewardResult::of(s.completion.find(word_) != std::string::npos ? 1.0 : 0.0);
  }

 private:
  std::string word_;
};

GRPO_REGISTER_REWARD("contains_word", [](const RewardSpec& spec) { return std::make_unique<ContainsWordReward>(spec); });

RewardSpec spec_of(const std::string& type, nlohmann::json params = nlohmann::json::object()) {
  RewardSpec spec;
  spec.type = type;
  spec.params = std::move(params);
  return spec;
}

TEST(RewardRegistryTest, BuiltinsAreRegistered) {
  auto& r = RewardRegistry::instance();
  for (const char* type : {"math", "format", "length", "countdown", "command", "plugin"}) {
    EXPECT_TRUE(r.has(type)) << type;
    EXPECT_FALSE(r.summary(type).empty()) << type;
  }
}

TEST(RewardRegistryTest, OneLineRegistrationWorks) {
  auto reward = RewardRegistry::instance().create(spec_of("contains_word", {{"word", "cat"}}));
  Sample s;
  s.completion = "a cat";
  EXPECT_EQ(reward->score(s).score, 1.0);
}

TEST(RewardRegistryTest, UnknownTypeSuggestsTheClosest) {
  try {
    RewardRegistry::instance().create(spec_of("maht"));
    FAIL();
  } catch (const ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("rewards[maht].type"), std::string::npos) << m;
    EXPECT_NE(m.find("did you mean 'math'"), std::string::npos) << m;
  }
}

TEST(RewardRegistryTest, BadParamsNameTheKey) {
  try {
    RewardRegistry::instance().create(spec_of("math", {{"rel_tol", "small"}}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("rewards[math].params.rel_tol: must be a number"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RewardRegistry::instance().create(spec_of("countdown", {{"target_feild", "t"}})), ConfigError);
}

TEST(RewardRegistryTest, AddReplacesAType) {
  RewardRegistry local;
  local.add("x", [](const RewardSpec& s) { return std::make_unique<ContainsWordReward>(s); }, "first");
  local.add("x", [](const RewardSpec& s) { return std::make_unique<ContainsWordReward>(s); }, "second");
  EXPECT_EQ(local.summary("x"), "second");
  EXPECT_EQ(local.types(), std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace grpo::rewards
