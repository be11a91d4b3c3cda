// landlock.cpp: Landlock through raw system calls. The structures and bits are
// spelled out here because the system's <linux/landlock.h> may predate the
// ABI the kernel offers (net rules: ABI 4, scopes: ABI 6).
#include "sandbox/internal/landlock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace grpo::sandbox::internal {
namespace {

struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

constexpr uint32_t kCreateRulesetVersion = 1;
constexpr int kRulePathBeneath = 1;
constexpr uint64_t kExecute = 1 << 0, kWriteFile = 1 << 1, kReadFile = 1 << 2, kReadDir = 1 << 3;
constexpr uint64_t kTruncate = 1 << 14, kIoctlDev = 1 << 15;
constexpr uint64_t kNetBindTcp = 1 << 0, kNetConnectTcp = 1 << 1;
constexpr uint64_t kScopeAbstractUnixSocket = 1 << 0, kScopeSignal = 1 << 1;

uint64_t all_fs_rights(int abi) {
  uint64_t rights = (1ULL << 13) - 1;  // ABI 1: execute .. make_sym
  if (abi >= 2) rights |= 1ULL << 13;  // refer
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  return rights;
}

bool add_path(int ruleset, const std::string& path, uint64_t rights, std::string* error) {
  int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return true;  // absent on this host: nothing to allow
  struct stat st;
  if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) rights &= kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
  PathBeneathAttr attr{rights, fd};
  long rc = syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &attr, 0);
  int saved = errno;
  ::close(fd);
  if (rc != 0) *error = "landlock_add_rule " + path + ": " + std::strerror(saved);
  return rc == 0;
}

}  // namespace

int landlock_abi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

int make_landlock_ruleset(const std::vector<std::string>& read_only, const std::vector<std::string>& devices,
                          const std::vector<std::string>& read_write, std::string* error) {
  int abi = landlock_abi();
  if (abi < 1) {
    *error = "Landlock is not available in this kernel";
    return -1;
  }
  RulesetAttr attr{all_fs_rights(abi), 0, 0};
  size_t size = sizeof(uint64_t);
  if (abi >= 4) attr.handled_access_net = kNetBindTcp | kNetConnectTcp, size = 2 * sizeof(uint64_t);
  if (abi >= 6) attr.scoped = kScopeAbstractUnixSocket | kScopeSignal, size = sizeof attr;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) {
    *error = std::string("landlock_create_ruleset: ") + std::strerror(errno);
    return -1;
  }
  const uint64_t all = all_fs_rights(abi);
  const uint64_t file_rw = (kReadFile | kWriteFile | (abi >= 3 ? kTruncate : 0) | (abi >= 5 ? kIoctlDev : 0)) & all;
  bool ok = true;
  for (const auto& p : read_only) ok = ok && add_path(ruleset, p, kExecute | kReadFile | kReadDir, error);
  for (const auto& p : devices) ok = ok && add_path(ruleset, p, file_rw, error);
  for (const auto& p : read_write) ok = ok && add_path(ruleset, p, all, error);
  if (!ok) {
    ::close(ruleset);
    return -1;
  }
  return ruleset;
}

}  // namespace grpo::sandbox::internal
