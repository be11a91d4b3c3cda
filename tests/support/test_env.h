// test_env.h: what tests need from their surroundings: temporary directories,
// the paths CTest passes in (binary, sources, shared/, reference Python), and
// running a command to capture its output and exit code.
#pragma once

#include <string>

namespace grpo::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/name
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Value of environment variable `name`, else `fallback`.
std::string env_or(const char* name, const char* fallback);
// Paths of this build, each overridable by the environment variable named.
std::string grpo_binary();       // GRPO_BINARY: the grpo program
std::string source_dir();        // GRPO_SOURCE_DIR: the checkout
std::string shared_dir();        // GRPO_SHARED_DIR: shared/ beside the checkout
std::string reference_python();  // GRPO_PYTHON: the venv python with the references
std::string grpo_command();      // grpo_binary() shell-quoted: the start of a command line

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

// Result of a finished command.
struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `command` with /bin/sh, feeding `input` on stdin; captures both streams.
CommandResult run_command(const std::string& command, const std::string& input = "");

// Single-quotes `s` for /bin/sh.
std::string shell_quote(const std::string& s);

}  // namespace grpo::testing
