// checkpoint.cpp: see checkpoint.h.
#include "learner/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"

namespace grpo::learner {
namespace fs = std::filesystem;
namespace {

constexpr const char* kManifest = "MANIFEST.json";
constexpr const char* kPrefix = "step-";

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%08lld", kPrefix, static_cast<long long>(step));
  return buf;
}

std::optional<int64_t> step_of(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0 || name.size() <= 5) return std::nullopt;
  const std::string digits = name.substr(5);
  if (!std::all_of(digits.begin(), digits.end(), ::isdigit)) return std::nullopt;
  return std::stoll(digits);
}

// FNV-1a 64 of a file's bytes: cheap, and enough to catch torn or truncated files.
uint64_t file_hash(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string(), "cannot read checkpoint file");
  uint64_t h = 1469598103934665603ull;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[static_cast<size_t>(i)]);
      h *= 1099511628211ull;
    }
  }
  return h;
}

void fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw IoError(path.string(), "cannot open to fsync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw IoError(path.string(), "fsync failed");
}

// Regular files under dir, relative paths, sorted.
std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

void write_manifest(const fs::path& dir, int64_t step) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& rel : files_under(dir)) {
    const fs::path p = dir / rel;
    files[rel] = {{"size", fs::file_size(p)}, {"fnv1a64", std::to_string(file_hash(p))}};
    fsync_path(p, false);
  }
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_directory()) fsync_path(e.path(), true);
  const fs::path manifest = dir / kManifest;
  {
    std::ofstream out(manifest);
    out << nlohmann::json{{"step", step}, {"files", files}}.dump(1);
    if (!out) throw IoError(manifest.string(), "cannot write checkpoint manifest");
  }
  fsync_path(manifest, false);
  fsync_path(dir, true);
}

void prune(const std::string& root, const RetentionPolicy& r) {
  auto all = list_checkpoints(root);
  const size_t keep_last = static_cast<size_t>(std::max(1, r.keep_last));
  for (size_t i = 0; i + keep_last < all.size(); ++i) {
    if (r.keep_every > 0 && all[i].step % r.keep_every == 0) continue;
    std::error_code ec;
    fs::remove_all(all[i].dir, ec);
    if (ec) GRPO_LOG_WARN("learner", "could not remove old checkpoint " << all[i].dir << ": " << ec.message());
  }
  // Leftovers of saves that died before their rename.
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0 || name.rfind(".old-", 0) == 0) {
      std::error_code ec;
      fs::remove_all(e.path(), ec);
    }
  }
}

}  // namespace

std::string save_checkpoint(const std::string& root, int64_t step, const CheckpointWriter& write,
                            const RetentionPolicy& retention, const CheckpointHook& hook) {
  fs::create_directories(root);
  const fs::path final_dir = fs::path(root) / step_name(step);
  const fs::path tmp = fs::path(root) / (".tmp-" + step_name(step) + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write(tmp.string());
  if (hook) hook("files_written");
  write_manifest(tmp, step);
  if (hook) hook("manifest_written");
  if (fs::exists(final_dir)) {  // re-saving a step: move the old one aside first, drop it after
    const fs::path old = fs::path(root) / (".old-" + step_name(step));
    fs::remove_all(old);
    fs::rename(final_dir, old);
  }
  std::error_code ec;
  fs::rename(tmp, final_dir, ec);
  if (ec) throw IoError(final_dir.string(), "cannot rename checkpoint into place: " + ec.message());
  fsync_path(root, true);
  if (hook) hook("renamed");
  prune(root, retention);
  return final_dir.string();
}

std::vector<CheckpointInfo> list_checkpoints(const std::string& root) {
  std::vector<CheckpointInfo> out;
  if (!fs::is_directory(root)) return out;
  for (const auto& e : fs::directory_iterator(root)) {
    if (!e.is_directory()) continue;
    if (auto step = step_of(e.path().filename().string())) out.push_back({*step, e.path().string()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

bool verify_checkpoint(const std::string& dir, std::string* why) {
  auto fail = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  const fs::path manifest = fs::path(dir) / kManifest;
  if (!fs::exists(manifest)) return fail("no " + std::string(kManifest));
  nlohmann::json m;
  try {
    std::ifstream in(manifest);
    m = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    return fail(std::string(kManifest) + " is not valid JSON: " + e.what());
  }
  if (!m.contains("files") || !m["files"].is_object()) return fail(std::string(kManifest) + " lists no files");
  for (const auto& [rel, meta] : m["files"].items()) {
    const fs::path p = fs::path(dir) / rel;
    if (!fs::exists(p)) return fail(rel + " is missing");
    if (fs::file_size(p) != meta["size"].get<uint64_t>())
      return fail(rel + " has " + std::to_string(fs::file_size(p)) + " bytes, manifest says " + meta["size"].dump());
    if (std::to_string(file_hash(p)) != meta["fnv1a64"].get<std::string>()) return fail(rel + " does not match its hash");
  }
  return true;
}

std::optional<CheckpointInfo> latest_checkpoint(const std::string& root) {
  auto all = list_checkpoints(root);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    std::string why;
    if (verify_checkpoint(it->dir, &why)) return *it;
    GRPO_LOG_WARN("learner", "checkpoint " << it->dir << " is torn (" << why << "); falling back to an older one");
  }
  return std::nullopt;
}

}  // namespace grpo::learner
