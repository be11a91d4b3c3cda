// landlock.h: Landlock file-system rules for the weaker tier (no user
// namespaces). The host builds the ruleset; the program's process enforces it
// with landlock_restrict_self after no_new_privs.
#pragma once

#include <string>
#include <vector>

namespace grpo::sandbox::internal {

// Landlock ABI version of the running kernel; 0 when unsupported or disabled.
int landlock_abi();

// A ruleset allowing read+execute beneath `read_only`, read+write on the
// `devices` files, everything beneath `read_write`, nothing else; on ABI >= 4
// no TCP bind/connect; on ABI >= 6 no signals or abstract sockets outside the
// sandbox. Returns the ruleset fd (close-on-exec), or -1 with `error` set.
int make_landlock_ruleset(const std::vector<std::string>& read_only, const std::vector<std::string>& devices,
                          const std::vector<std::string>& read_write, std::string* error);

}  // namespace grpo::sandbox::internal
