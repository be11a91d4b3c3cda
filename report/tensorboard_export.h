// tensorboard_export.h: keeps a run's TensorBoard directory (runs/<name>/tb/)
// in step with its run store. The store is the source of truth; the event
// file is derived from it and can be deleted and rebuilt at any time.
//
//   TensorBoardSync tb(tensorboard_dir("runs/demo"));
//   for (...) { store.write_step(rec); tb.sync(store); }   // `grpo train`
//   export_tensorboard(store, tensorboard_dir(run_dir));     // `grpo report --tensorboard`
//
// Each step becomes one Event with every metric of the step as a scalar, its
// wall time the step's commit time. A sync appends the steps committed after
// the last one in the file, in commit order; a step rewritten by a resumed run
// is committed later, so it is appended again, after a SessionLog START event
// at that step on which TensorBoard drops the stale points from there on (its
// purge_orphaned_data rule, as for a TensorFlow job restarted from a checkpoint).
// Syncs from several processes are serialised by flock on tb/.grpo-lock.
// Not thread-safe; one TensorBoardSync per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "report/tensorboard_writer.h"

namespace grpo {
class RunStore;
}

namespace grpo::report {

// The one event file a run's TensorBoard directory holds ("tfevents" in the
// name is what TensorBoard looks for).
inline constexpr const char* kEventFileName = "events.out.tfevents.grpo";

// runs/<name> -> runs/<name>/tb
std::string tensorboard_dir(const std::string& run_dir);

class TensorBoardSync {
 public:
  explicit TensorBoardSync(std::string tb_dir);
  ~TensorBoardSync();

  // Appends every step committed to `store` since the file's last event and
  // flushes. Returns how many steps it wrote. Throws IoError naming the file.
  int64_t sync(const RunStore& store);
  std::string event_file() const { return dir_ + "/" + kEventFileName; }

 private:
  std::string dir_;
  std::unique_ptr<TensorBoardWriter> writer_;
};

// One sync into `tb_dir`: brings its event file up to date with the store.
int64_t export_tensorboard(const RunStore& store, const std::string& tb_dir);

}  // namespace grpo::report
