#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>

#include "core/error.h"

namespace grpo::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_level_from_command_line{false};
std::mutex g_mutex;
FILE* g_file = nullptr;  // GUARDED_BY(g_mutex)
std::set<std::string> g_warned;  // GUARDED_BY(g_mutex)

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO ";
    case Level::kWarn: return "WARN ";
    case Level::kError: return "ERROR";
    default: return "";
  }
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03d", buf, ms);
  return out;
}

}  // namespace

Level parse_level(const std::string& name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off") return Level::kOff;
  throw Error("unknown log level '" + name + "': use debug, info, warn, error or off");
}

void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load()); }
void set_level_from_command_line(Level l) {
  set_level(l);
  g_level_from_command_line = true;
}
bool level_from_command_line() { return g_level_from_command_line; }
bool enabled(Level l) { return static_cast<int>(l) >= g_level.load() && l != Level::kOff; }

void set_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file) std::fclose(g_file);
  g_file = nullptr;
  if (path.empty()) return;
  g_file = std::fopen(path.c_str(), "a");
  if (!g_file) throw IoError(path, "cannot open log file for appending");
}

void write(Level l, const std::string& component, const std::string& message) {
  if (!enabled(l)) return;
  std::string line = timestamp() + " " + level_name(l) + " [" + component + "] " + message + "\n";
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fputs(line.c_str(), stderr);
  if (g_file) {
    std::fputs(line.c_str(), g_file);
    std::fflush(g_file);
  }
}

void warn_once(const std::string& key, const std::string& component, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_warned.insert(key).second) return;
  }
  write(Level::kWarn, component, message);
}

}  // namespace grpo::log
