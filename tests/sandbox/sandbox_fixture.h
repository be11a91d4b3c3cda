// sandbox_fixture.h: one shared runner per tier for the sandbox suites, short
// limits so hostile programs end fast, and the host-unharmed checks.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>

#include "sandbox/runner.h"

namespace grpo::sandbox::testing {

// Limits of the hostile suite: hostile programs hit them within ~2 s.
inline Limits short_limits() {
  Limits l;
  l.cpu_ms = 1000;
  l.wall_ms = 2000;
  l.memory_mb = 128;
  l.stdout_kb = 64;
  l.max_processes = 16;
  l.max_files = 256;
  l.file_mb = 4;
  return l;
}

inline SandboxConfig test_config(const std::string& tier) {
  SandboxConfig c;
  c.tier = tier;
  c.accept_weaker = true;  // the suite checks behaviour with whatever layers this host has
  c.limits = short_limits();
  return c;
}

// The runner of `tier` ("namespace" or "landlock"), made once.
inline Runner& shared_runner(const std::string& tier) {
  static std::mutex mutex;  // tests start runs from several threads
  static std::unique_ptr<Runner> ns, ll;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<Runner>& r = tier == "namespace" ? ns : ll;
  if (!r) r = make_runner(test_config(tier));
  return *r;
}

inline Execution run_python(const std::string& tier, const std::string& source, const std::string& input = "",
                            const Limits& limits = short_limits()) {
  return shared_runner(tier).run({Language::kPython, source, input}, limits);
}

// `e` as one line of JSON, for assertion messages.
inline std::string show_execution(const Execution& e) { return e.to_json().dump(); }

// Makes this test process a child subreaper (once), so every process a run
// leaves behind (even one that escaped with setsid) becomes our descendant.
void adopt_orphans();
// Live (non-zombie) descendants of this test process: after a run there must be none.
int live_descendants();

}  // namespace grpo::sandbox::testing
