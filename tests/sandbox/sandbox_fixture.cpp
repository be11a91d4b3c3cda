// sandbox_fixture.cpp: host-side checks of the sandbox suites.
#include "sandbox_fixture.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>

namespace grpo::sandbox::testing {

int sandbox_uid_processes() {
  const long first = SandboxConfig{}.sandbox_uid, last = first + 1025;
  int count = 0;
  DIR* d = opendir("/proc");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/status");
    std::string key;
    long uid = -1;
    while (in >> key) {
      if (key == "Uid:") {
        in >> uid;
        break;
      }
    }
    if (uid >= first && uid <= last) ++count;
  }
  closedir(d);
  return count;
}

}  // namespace grpo::sandbox::testing
