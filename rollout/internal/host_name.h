// host_name.h: this machine's host name, which a worker reports in its hello
// and the pool compares with its own to offer shared weights (weight_staging.h)
// only to workers on the same machine.
#pragma once

#include <unistd.h>

#include <string>

namespace grpo::rollout::internal {

inline std::string host_name() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return host;
}

}  // namespace grpo::rollout::internal
