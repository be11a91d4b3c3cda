// rewards_test_env.h: paths the reward tests need: from the environment when
// ctest sets it, else the values compiled in by tests/rewards/CMakeLists.txt.
#pragma once

#include <cstdlib>
#include <string>

namespace grpo::rewards::test {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
inline std::string source_dir() { return env_or("GRPO_SOURCE_DIR", GRPO_REWARDS_TEST_SOURCE_DIR); }
inline std::string python() { return env_or("GRPO_PYTHON", GRPO_REWARDS_TEST_PYTHON); }
inline std::string plugin_path() { return env_or("GRPO_TEST_REWARD_PLUGIN", GRPO_REWARDS_TEST_PLUGIN); }

}  // namespace grpo::rewards::test
