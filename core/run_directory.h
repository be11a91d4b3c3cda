// run_directory.h: the folder of one run, <run.dir>/<run.name>/, with its
// store (run.db), its log (log.txt) and its checkpoints/ folder.
//
//   RunDirectory dir = RunDirectory::create(recipe.run, resolved_recipe_json);  // new run
//   RunDirectory dir = RunDirectory::resume("runs/demo");                       // --resume
//   dir.store().write_step(...);
#pragma once

#include <memory>
#include <string>

#include "core/run_config.h"
#include "core/run_store.h"

namespace grpo {

// Owns a run's store and routes the process log into the run's log.txt.
class RunDirectory {
 public:
  // Creates <dir>/<name>/ and its store, records the resolved recipe, version
  // and start time, status "running". Refuses an existing run with a store
  // (resume it or pick another run.name) so nothing is overwritten.
  static RunDirectory create(const RunConfig& run, const std::string& resolved_recipe_json, const std::string& version);
  // Opens an existing run directory to continue it; status back to "running".
  static RunDirectory resume(const std::string& path);

  RunDirectory(RunDirectory&&) = default;
  ~RunDirectory();

  const std::string& path() const { return path_; }
  std::string checkpoints_path() const { return path_ + "/checkpoints"; }
  RunStore& store() { return *store_; }
  // Records the end time and final status ("completed", "failed", "interrupted").
  void finish(const std::string& status);

 private:
  RunDirectory(std::string path, std::unique_ptr<RunStore> store);
  std::string path_;
  std::unique_ptr<RunStore> store_;
};

}  // namespace grpo
