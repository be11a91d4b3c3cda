// log.h: the one logger of grpo-cpp. Leveled lines to stderr and, once a run
// has a directory, to runs/<name>/log.txt. Thread-safe. stdout is never used:
// it carries only command output.
//
//   log::set_level(log::Level::kDebug);
//   GRPO_LOG_INFO("rollout w3", "loaded version " << v);
//   GRPO_LOG_WARN_ONCE("learner", "skipping non-finite step");
#pragma once

#include <sstream>
#include <string>

namespace grpo::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Parses "debug", "info", "warn", "error", "off"; throws grpo::Error otherwise.
Level parse_level(const std::string& name);
void set_level(Level level);
Level level();
// Whether the level came from the command line (--log-level), which then
// wins over a recipe's run.log_level.
void set_level_from_command_line(Level level);
bool level_from_command_line();
bool enabled(Level level);

// Also append every line to `path` (created if missing); "" stops it.
void set_file(const std::string& path);

// Writes one line: "2026-11-28 12:00:00.123 INFO  [component] message".
void write(Level level, const std::string& component, const std::string& message);

// Writes a warning only the first time `key` is seen in this process.
void warn_once(const std::string& key, const std::string& component, const std::string& message);

}  // namespace grpo::log

#define GRPO_LOG_AT(lvl, component, expr)                          \
  do {                                                             \
    if (::grpo::log::enabled(lvl)) {                               \
      std::ostringstream grpo_log_ss_;                             \
      grpo_log_ss_ << expr;                                        \
      ::grpo::log::write(lvl, component, grpo_log_ss_.str());      \
    }                                                              \
  } while (0)
#define GRPO_LOG_DEBUG(component, expr) GRPO_LOG_AT(::grpo::log::Level::kDebug, component, expr)
#define GRPO_LOG_INFO(component, expr) GRPO_LOG_AT(::grpo::log::Level::kInfo, component, expr)
#define GRPO_LOG_WARN(component, expr) GRPO_LOG_AT(::grpo::log::Level::kWarn, component, expr)
#define GRPO_LOG_ERROR(component, expr) GRPO_LOG_AT(::grpo::log::Level::kError, component, expr)
#define GRPO_LOG_WARN_ONCE(component, expr)                                          \
  do {                                                                               \
    std::ostringstream grpo_log_ss_;                                                 \
    grpo_log_ss_ << expr;                                                            \
    ::grpo::log::warn_once(std::string(__FILE__) + ":" + std::to_string(__LINE__),   \
                           component, grpo_log_ss_.str());                           \
  } while (0)
