// Every recipe in recipes/ (globbed, so new ones are covered): `grpo config
// validate` accepts it, `grpo config show` resolves it, it names its own run
// after its file, and the values its documentation promises are the ones it
// holds (recipes/README.md cites where each comes from).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "rewards/reward_pool.h"
#include "tests/support/test_env.h"
#include "core/config_fields.h"

namespace grpo {
namespace {

using testing::grpo_binary;
using testing::run_command;
using testing::shell_quote;
using testing::source_dir;
using Json = nlohmann::json;

std::vector<std::filesystem::path> shipped_recipes() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(source_dir() + "/recipes"))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The resolved recipe as `grpo config show` prints it (one run per file: each costs a LibTorch start).
Json shown(const std::filesystem::path& recipe) {
  static std::map<std::string, Json> cache;
  auto it = cache.find(recipe.string());
  if (it != cache.end()) return it->second;
  auto r = run_command(shell_quote(grpo_binary()) + " config show " + shell_quote(recipe.string()));
  EXPECT_EQ(r.exit_code, 0) << recipe << ": " << r.err;
  Json j = r.exit_code == 0 ? Json::parse(r.out) : Json::object();
  cache[recipe.string()] = j;
  return j;
}

const Json* reward_of(const Json& recipe, const std::string& type) {
  for (const auto& r : recipe["rewards"])
    if (r["type"] == type) return &r;
  return nullptr;
}

// What each documented recipe must hold (recipes/README.md).
const std::map<std::string, std::function<void(const Json&)>>& documented_values() {
  static const std::map<std::string, std::function<void(const Json&)>> checks = {
      {"arithmetic-zero", [](const Json& j) {
         EXPECT_EQ(j["data"]["generator"], "arithmetic");
         EXPECT_EQ(j["template"]["name"], "r1_zero");
         EXPECT_NE(reward_of(j, "math"), nullptr);
         EXPECT_NE(reward_of(j, "format"), nullptr);
         EXPECT_EQ(j["learner"]["beta"], 0.001);
       }},
      {"countdown-zero", [](const Json& j) {
         EXPECT_EQ(j["data"]["generator"], "countdown");
         EXPECT_EQ(j["data"]["generator_params"], Json({{"min_numbers", 3}, {"max_numbers", 4}, {"max_number", 99}, {"max_target", 100}}));
         ASSERT_NE(reward_of(j, "format"), nullptr);
         EXPECT_EQ((*reward_of(j, "format"))["params"]["think_prefilled"], true);  // the prompt opens <think>
         EXPECT_NE(reward_of(j, "countdown"), nullptr);
         EXPECT_EQ(reward_of(j, "math"), nullptr);  // the list replaced arithmetic-zero's
       }},
      {"r1-zero-qwen2.5", [](const Json& j) {
         // DeepSeek-R1 paper, R1-Zero: lr 3e-6, KL 0.001, G 16, 32 questions per step, reference every 400 steps.
         EXPECT_EQ(j["learner"]["lr"], 3e-6);
         EXPECT_EQ(j["learner"]["beta"], 0.001);
         EXPECT_EQ(j["learner"]["ref_sync_steps"], 400);
         EXPECT_EQ(j["learner"]["steps_per_generation"], 16);
         EXPECT_EQ(j["rollout"]["num_generations"], 16);
         EXPECT_EQ(j["rollout"]["temperature"], 1.0);
         EXPECT_EQ(j["data"]["prompts_per_step"], 32);
         EXPECT_EQ(j["model"]["device"], "cuda");
         EXPECT_EQ(j["data"]["answer_field"], "answer");
       }},
      {"dapo-qwen2.5", [](const Json& j) {
         // DAPO: clip-higher, token-level loss, no KL, soft overlong punishment.
         EXPECT_EQ(j["learner"]["epsilon"], 0.2);
         EXPECT_EQ(j["learner"]["epsilon_high"], 0.28);
         EXPECT_EQ(j["learner"]["loss_type"], "dapo");
         EXPECT_EQ(j["learner"]["beta"], 0.0);
         ASSERT_NE(reward_of(j, "length"), nullptr);
         const Json& overlong = (*reward_of(j, "length"))["params"];
         EXPECT_EQ(overlong["mode"], "overlong");
         EXPECT_EQ(overlong["max_tokens"], j["rollout"]["max_new_tokens"]);  // L_max is the generation limit
         EXPECT_EQ((*reward_of(j, "math"))["params"]["wrong"], -1.0);         // DAPO's +1/-1 reward
       }},
      {"code-zero", [](const Json& j) {
         ASSERT_NE(reward_of(j, "code"), nullptr);
         EXPECT_EQ((*reward_of(j, "code"))["params"]["language"], "python");
         EXPECT_TRUE(std::filesystem::exists(source_dir() + "/" + j["data"]["train"].get<std::string>()))
             << "the code recipe ships its sample problems";
       }},
  };
  return checks;
}

TEST(ShippedRecipesTest, ConfigValidateAcceptsEveryRecipe) {
  auto recipes = shipped_recipes();
  ASSERT_GE(recipes.size(), documented_values().size());
  for (const auto& path : recipes) {
    auto r = run_command(shell_quote(grpo_binary()) + " config validate " + shell_quote(path.string()));
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.err;
    EXPECT_EQ(r.out, "") << path;
  }
}

TEST(ShippedRecipesTest, EveryRecipeNamesItsRunAfterItsFile) {
  // Two recipes sharing a run name would write into one run directory.
  for (const auto& path : shipped_recipes()) {
    Json j = shown(path);
    ASSERT_TRUE(j.contains("run")) << path;
    EXPECT_EQ(j["run"]["name"], path.stem().string()) << path;
  }
}

TEST(ShippedRecipesTest, DocumentedRecipesHoldTheirValues) {
  for (const auto& [stem, check] : documented_values()) {
    std::filesystem::path path = source_dir() + "/recipes/" + stem + ".json";
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    SCOPED_TRACE(stem);
    check(shown(path));
  }
}

TEST(ShippedRecipesTest, RewardParametersAreAccepted) {
  // Reward parameters are checked when the rewards are built, not by the
  // recipe loader; build them. Code rewards start a sandbox and are left to
  // the sandbox tests.
  int built = 0;
  for (const auto& path : shipped_recipes()) {
    Json j = shown(path);
    if (!j.contains("rewards")) continue;  // not a GRPO recipe (e.g. SFT)
    std::vector<rewards::RewardSpec> specs;
    for (const auto& entry : j["rewards"]) specs.push_back(read_config<rewards::RewardSpec>(entry, Origins(path.string())));
    bool builds_in_process = std::none_of(specs.begin(), specs.end(), [](const rewards::RewardSpec& s) {
      return s.type == "code" || s.type == "command" || s.type == "plugin";
    });
    if (!builds_in_process) continue;
    EXPECT_NO_THROW(rewards::RewardPool pool(specs, 1)) << path;
    ++built;
  }
  EXPECT_GE(built, 4);
}

}  // namespace
}  // namespace grpo
