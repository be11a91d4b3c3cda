// Tests of the dlopen plug-in reward against fixtures/test_plugin.c.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/error.h"
#include "rewards/plugin_reward.h"
#include "rewards/reward_registry.h"
#include "tests/rewards/rewards_test_env.h"
#include "tests/support/test_env.h"

namespace grpo::rewards {
namespace {

RewardSpec plugin_spec(nlohmann::json params = nlohmann::json::object()) {
  RewardSpec spec;
  spec.type = "plugin";
  spec.library = test::plugin_path();
  spec.params = std::move(params);
  return spec;
}

TEST(PluginRewardTest, ScoresThroughTheCAbi) {
  auto reward = RewardRegistry::instance().create(plugin_spec({{"bonus", 0.5}}));
  Sample s;
  s.row = {{"answer", "42"}};
  s.completion = "it is 42";
  EXPECT_DOUBLE_EQ(reward->score(s).score, 1.5);
  s.completion = "it is 41";
  EXPECT_DOUBLE_EQ(reward->score(s).score, 0.0);
}

TEST(PluginRewardTest, PluginErrorsBecomeResults) {
  PluginReward reward(plugin_spec());
  Sample s;
  s.row = {{"answer", "42"}};
  s.completion = "fail";
  RewardResult r = reward.score(s);
  EXPECT_EQ(r.score, 0.0);
  EXPECT_EQ(r.error, "test_plugin: cannot grade 'fail'");
}

TEST(PluginRewardTest, RefusedParamsAreAConfigError) {
  try {
    PluginReward reward(plugin_spec({{"refuse", true}}));
    FAIL() << "create() refused but no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("refusing on purpose"), std::string::npos) << e.what();
  }
}

TEST(PluginRewardTest, MissingLibraryOrEntryPointIsAConfigError) {
  RewardSpec spec = plugin_spec();
  spec.library = "/nonexistent/libreward.so";
  EXPECT_THROW(PluginReward{spec}, ConfigError);
  try {
    PluginReward reward(spec);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("rewards[plugin].library: cannot load plug-in"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grpo::rewards
