#include "sandbox/internal/process_tree.h"

#include <dirent.h>

#include <fstream>
#include <string>

namespace grpo::sandbox::internal {

std::vector<pid_t> descendants(pid_t root) {
  std::vector<pid_t> out, frontier{root};
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
        out.push_back(c);
        frontier.push_back(c);
      }
    }
    closedir(d);
  }
  return out;
}

}  // namespace grpo::sandbox::internal
