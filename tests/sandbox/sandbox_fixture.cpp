// sandbox_fixture.cpp: host-side checks of the sandbox suites.
#include "sandbox_fixture.h"

#include <dirent.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

#include <cstdlib>
#include <fstream>

namespace grpo::sandbox::testing {

void adopt_orphans() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

int live_descendants() {
  std::vector<pid_t> frontier{getpid()};
  int live = 0;
  while (!frontier.empty()) {
    pid_t p = frontier.back();
    frontier.pop_back();
    std::string task_dir = "/proc/" + std::to_string(p) + "/task";
    DIR* d = opendir(task_dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(task_dir + "/" + e->d_name + "/children");
      pid_t c;
      while (in >> c) {
        std::ifstream stat("/proc/" + std::to_string(c) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        size_t close = text.rfind(')');
        if (close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z') ++live;
        frontier.push_back(c);
      }
    }
    closedir(d);
  }
  return live;
}

}  // namespace grpo::sandbox::testing
