// sandbox_fixture.cpp: host-side checks of the sandbox suites.
#include "sandbox_fixture.h"

#include "sandbox/internal/process_tree.h"

#include <dirent.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

#include <cstdlib>
#include <fstream>

namespace grpo::sandbox::testing {

void adopt_orphans() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

int live_descendants() {
  int live = 0;
  for (pid_t c : internal::descendants(getpid())) {
    std::ifstream stat("/proc/" + std::to_string(c) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z') ++live;
  }
  return live;
}

}  // namespace grpo::sandbox::testing
