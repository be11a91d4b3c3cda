// run_store.h: the record of one run, a SQLite database at runs/<name>/run.db.
//
// Holds run metadata (resolved recipe, version, start, end, status), per-step
// metrics, samples of completions, checkpoints and events. WAL mode: readers
// (`grpo report`, a live dashboard) never block the writer. Every write_step
// is one transaction, so a writer killed at any moment leaves a database that
// opens, passes integrity_check and holds every step committed before it.
//
//   RunStore store("runs/demo/run.db");            // creates or migrates
//   StepRecord s{.step = 3};
//   s.metrics["reward/mean"] = 0.25;
//   store.write_step(s);
//   RunStore reader("runs/demo/run.db", RunStore::Mode::kReadOnly);
//
// Not thread-safe: one RunStore per thread (SQLite connections are cheap).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace grpo {

// One sampled completion as recorded in the store.
struct SampleRecord {
  int64_t group = 0;           // index of the group (prompt) within the step
  int64_t index = 0;           // index of the completion within its group
  std::string prompt;
  std::string completion;
  std::map<std::string, double> rewards;  // reward component name -> score
  double reward = 0.0;         // weighted total
  double advantage = 0.0;
  int64_t policy_version = 0;  // weights version that generated it
  std::string finish_reason;   // "stop", "length", ...
};

// Everything one training step writes, committed atomically.
struct StepRecord {
  int64_t step = 0;
  std::map<std::string, double> metrics;
  std::vector<SampleRecord> samples;
};

// A checkpoint written by the learner.
struct CheckpointRecord {
  int64_t step = 0;
  std::string path;
  std::string checksum;
};

// A warning, error or notable happening (worker restart, skipped step).
struct EventRecord {
  int64_t step = -1;  // -1 when not tied to a step
  std::string level;  // "info", "warn", "error"
  std::string source; // component, e.g. "rollout w2"
  std::string message;
  double time = 0.0;  // unix seconds; 0 means now
};

// A metric value read back from the store.
struct MetricPoint {
  int64_t step = 0;
  double value = 0.0;
};

class RunStore {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // The schema version this build writes; older databases are migrated on open.
  static constexpr int kSchemaVersion = 1;

  // Opens (creating and migrating in kReadWrite) the database at `path`.
  // Throws IoError naming the path.
  explicit RunStore(const std::string& path, Mode mode = Mode::kReadWrite);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  int schema_version() const;
  const std::string& path() const { return path_; }

  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;
  std::map<std::string, std::string> all_meta() const;  // every key -> value

  // Writes metrics and samples of one step in a single transaction. Writing a
  // step that already exists replaces it (a resumed run redoing that step).
  void write_step(const StepRecord& record);
  void add_checkpoint(const CheckpointRecord& record);
  void add_event(const EventRecord& record);

  // Reading.
  std::vector<int64_t> steps() const;                 // committed steps, ascending
  std::optional<int64_t> last_step() const;
  std::vector<std::string> metric_names() const;
  std::vector<MetricPoint> metric(const std::string& name) const;
  std::vector<SampleRecord> samples(int64_t step) const;
  std::map<int64_t, int64_t> sample_counts() const;  // step -> samples recorded, for steps with any
  // Metrics of one step, name -> value (empty when the step has none).
  std::map<std::string, double> step_metrics(int64_t step) const;
  // When each committed step was written: (step, unix seconds), ascending by step.
  std::vector<MetricPoint> step_times() const;
  std::vector<CheckpointRecord> checkpoints() const;
  std::vector<EventRecord> events() const;
  // "ok" when PRAGMA integrity_check passes, else its first complaint.
  std::string integrity_check() const;

 private:
  void exec(const std::string& sql) const;
  void migrate();
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace grpo
