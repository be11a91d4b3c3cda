// plugin_reward.cpp: see plugin_reward.h.
#include "rewards/plugin_reward.h"

#include <dlfcn.h>

#include "core/error.h"

namespace grpo::rewards {

namespace {
constexpr size_t kErrorBufferSize = 512;
}

PluginReward::PluginReward(const RewardSpec& spec) : library_(spec.library) {
  const std::string key = "rewards[" + (spec.name.empty() ? spec.type : spec.name) + "]";
  if (library_.empty()) throw ConfigError("", key + ".library", "a plugin reward needs \"library\": \"path/to/libmy_reward.so\"");
  // A path without '/' would be searched in the system library path; make
  // "libx.so" mean the file in the working directory, as users expect.
  std::string path = library_.find('/') == std::string::npos ? "./" + library_ : library_;
  // RTLD_NODELETE: never unmapped, since an abandoned (timed-out) call may still run in it.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle) throw ConfigError("", key + ".library", std::string("cannot load plug-in: ") + dlerror());
  auto entry = reinterpret_cast<grpo_reward_plugin_entry_v1_fn>(dlsym(handle, GRPO_REWARD_PLUGIN_ENTRY_V1));
  if (!entry)
    throw ConfigError("", key + ".library",
                      library_ + " does not export " GRPO_REWARD_PLUGIN_ENTRY_V1 "(); see rewards/plugin_abi.h "
                      "(declare it extern \"C\" in C++)");
  table_ = entry();
  if (!table_ || table_->abi_version != GRPO_REWARD_PLUGIN_ABI_VERSION)
    throw ConfigError("", key + ".library",
                      library_ + ": plug-in ABI version " + (table_ ? std::to_string(table_->abi_version) : "none") +
                          ", this grpo supports " + std::to_string(GRPO_REWARD_PLUGIN_ABI_VERSION));
  if (!table_->create || !table_->score || !table_->destroy)
    throw ConfigError("", key + ".library", library_ + ": plug-in table has a null create/score/destroy");
  char error[kErrorBufferSize] = {0};
  instance_ = table_->create(spec.params.dump().c_str(), error, sizeof error);
  if (!instance_)
    throw ConfigError("", key + ".params", std::string(table_->name ? table_->name : "plug-in") +
                                               " refused its params: " + (error[0] ? error : "no reason given"));
}

PluginReward::~PluginReward() {
  if (table_ && instance_) table_->destroy(instance_);
}

RewardResult PluginReward::score(const Sample& sample) const {
  const std::string row = sample.row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  grpo_reward_sample_v1 s{sample.prompt.c_str(), sample.completion.c_str(), sample.completion_tokens,
                          sample.finish_reason.c_str(), row.c_str()};
  double value = 0.0;
  char error[kErrorBufferSize] = {0};
  if (table_->score(instance_, &s, &value, error, sizeof error) != 0)
    return RewardResult::failed(std::string(table_->name ? table_->name : "plug-in") + ": " +
                                (error[0] ? error : "score() failed without a message"));
  return RewardResult::of(value);
}

}  // namespace grpo::rewards
