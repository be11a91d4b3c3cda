#include "core/run_directory.h"

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "core/log.h"

namespace grpo {
namespace {

namespace fs = std::filesystem;

std::string now_iso() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

RunDirectory::RunDirectory(std::string path, std::unique_ptr<RunStore> store)
    : path_(std::move(path)), store_(std::move(store)) {
  log::set_file(path_ + "/log.txt");
}

RunDirectory::~RunDirectory() {
  if (store_) log::set_file("");
}

RunDirectory RunDirectory::create(const RunConfig& run, const std::string& resolved_recipe_json, const std::string& version) {
  std::string path = (fs::path(run.dir) / run.name).string();
  if (fs::exists(fs::path(path) / "run.db"))
    throw IoError(path, "a run already exists here: continue it with --resume " + path + ", or set run.name to a new name");
  std::error_code ec;
  fs::create_directories(fs::path(path) / "checkpoints", ec);
  if (ec) throw IoError(path, "cannot create run directory: " + ec.message());
  auto store = std::make_unique<RunStore>(path + "/run.db");
  store->set_meta("recipe", resolved_recipe_json);
  store->set_meta("version", version);
  store->set_meta("started", now_iso());
  store->set_meta("status", "running");
  return RunDirectory(path, std::move(store));
}

RunDirectory RunDirectory::resume(const std::string& path) {
  if (!fs::exists(fs::path(path) / "run.db"))
    throw IoError(path, "no run to resume here (no run.db): check the path, or start a new run without --resume");
  auto store = std::make_unique<RunStore>(path + "/run.db");
  store->set_meta("status", "running");
  store->set_meta("resumed", now_iso());
  return RunDirectory(path, std::move(store));
}

void RunDirectory::finish(const std::string& status) {
  store_->set_meta("ended", now_iso());
  store_->set_meta("status", status);
}

}  // namespace grpo
