#include "core/run_store.h"

#include <sqlite3.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/internal/sqlite_statement.h"
#include "core/wall_clock.h"

namespace grpo {
namespace {

using internal::Statement;

// Migration i brings the schema from version i to i + 1. Append, never edit.
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE steps (step INTEGER PRIMARY KEY, time REAL NOT NULL);
    CREATE TABLE metrics (step INTEGER NOT NULL, name TEXT NOT NULL, value REAL,
                          PRIMARY KEY (step, name));
    CREATE TABLE samples (step INTEGER NOT NULL, grp INTEGER NOT NULL, idx INTEGER NOT NULL,
                          prompt TEXT, completion TEXT, rewards TEXT, reward REAL,
                          advantage REAL, policy_version INTEGER, finish_reason TEXT,
                          PRIMARY KEY (step, grp, idx));
    CREATE TABLE checkpoints (step INTEGER NOT NULL, path TEXT NOT NULL, checksum TEXT,
                              time REAL NOT NULL);
    CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, step INTEGER,
                         level TEXT, source TEXT, message TEXT);
    CREATE INDEX metrics_by_name ON metrics (name, step);
    )sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == RunStore::kSchemaVersion, "one migration per schema version");

}  // namespace

RunStore::RunStore(const std::string& path, Mode mode) : path_(path) {
  int flags = mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw IoError(path, "cannot open run store: " + msg);
  }
  // A reader waits for a writer's checkpoint instead of failing at once.
  sqlite3_busy_timeout(db_, 10000);
  try {
    if (mode == Mode::kReadWrite) {
      exec("PRAGMA journal_mode=WAL");
      // NORMAL in WAL mode survives a killed process (not a power cut) and
      // keeps a step's commit cheap.
      exec("PRAGMA synchronous=NORMAL");
      migrate();
    } else if (schema_version() > kSchemaVersion) {
      throw IoError(path, "run store has schema version " + std::to_string(schema_version()) +
                              ", newer than this grpo (" + std::to_string(kSchemaVersion) + "): upgrade grpo");
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

RunStore::~RunStore() { sqlite3_close(db_); }

void RunStore::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw IoError(path_, "SQL failed: " + msg);
  }
}

int RunStore::schema_version() const {
  Statement s(db_, path_, "PRAGMA user_version");
  return s.step() ? static_cast<int>(s.int_at(0)) : 0;
}

void RunStore::migrate() {
  int version = schema_version();
  if (version > kSchemaVersion)
    throw IoError(path_, "run store has schema version " + std::to_string(version) + ", newer than this grpo (" +
                             std::to_string(kSchemaVersion) + "): upgrade grpo");
  for (int v = version; v < kSchemaVersion; ++v) {
    exec("BEGIN IMMEDIATE");
    try {
      exec(kMigrations[v]);
      exec("PRAGMA user_version=" + std::to_string(v + 1));
      exec("COMMIT");
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
  }
}

void RunStore::set_meta(const std::string& key, const std::string& value) {
  Statement s(db_, path_, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  s.bind(1, key).bind(2, value).run_and_reset();
}

std::optional<std::string> RunStore::meta(const std::string& key) const {
  Statement s(db_, path_, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text_at(0);
}

std::map<std::string, std::string> RunStore::all_meta() const {
  Statement s(db_, path_, "SELECT key, value FROM meta ORDER BY key");
  std::map<std::string, std::string> out;
  while (s.step()) out[s.text_at(0)] = s.text_at(1);
  return out;
}

void RunStore::write_step(const StepRecord& r) {
  exec("BEGIN IMMEDIATE");
  try {
    for (const char* sql : {"DELETE FROM metrics WHERE step = ?", "DELETE FROM samples WHERE step = ?",
                            "DELETE FROM steps WHERE step = ?"}) {
      Statement del(db_, path_, sql);
      del.bind(1, r.step).run_and_reset();
    }
    Statement m(db_, path_, "INSERT INTO metrics(step, name, value) VALUES(?, ?, ?)");
    for (const auto& [name, value] : r.metrics) m.bind(1, r.step).bind(2, name).bind(3, value).run_and_reset();
    Statement s(db_, path_,
                "INSERT INTO samples(step, grp, idx, prompt, completion, rewards, reward, advantage, policy_version, "
                "finish_reason) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& x : r.samples) {
      s.bind(1, r.step).bind(2, x.group).bind(3, x.index).bind(4, x.prompt).bind(5, x.completion);
      s.bind(6, nlohmann::json(x.rewards).dump()).bind(7, x.reward).bind(8, x.advantage);
      s.bind(9, x.policy_version).bind(10, x.finish_reason).run_and_reset();
    }
    // The steps row goes last: its presence marks the step as complete.
    Statement st(db_, path_, "INSERT INTO steps(step, time) VALUES(?, ?)");
    st.bind(1, r.step).bind(2, unix_seconds()).run_and_reset();
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void RunStore::add_checkpoint(const CheckpointRecord& r) {
  Statement s(db_, path_, "INSERT INTO checkpoints(step, path, checksum, time) VALUES(?, ?, ?, ?)");
  s.bind(1, r.step).bind(2, r.path).bind(3, r.checksum).bind(4, unix_seconds()).run_and_reset();
}

void RunStore::add_event(const EventRecord& r) {
  Statement s(db_, path_, "INSERT INTO events(time, step, level, source, message) VALUES(?, ?, ?, ?, ?)");
  s.bind(1, r.time > 0 ? r.time : unix_seconds()).bind(2, r.step).bind(3, r.level).bind(4, r.source);
  s.bind(5, r.message).run_and_reset();
}

std::vector<int64_t> RunStore::steps() const {
  Statement s(db_, path_, "SELECT step FROM steps ORDER BY step");
  std::vector<int64_t> out;
  while (s.step()) out.push_back(s.int_at(0));
  return out;
}

std::optional<int64_t> RunStore::last_step() const {
  Statement c(db_, path_, "SELECT COUNT(*), MAX(step) FROM steps");
  c.step();
  if (c.int_at(0) == 0) return std::nullopt;
  return c.int_at(1);
}

std::vector<std::string> RunStore::metric_names() const {
  Statement s(db_, path_, "SELECT DISTINCT name FROM metrics ORDER BY name");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text_at(0));
  return out;
}

std::vector<MetricPoint> RunStore::metric(const std::string& name) const {
  Statement s(db_, path_, "SELECT step, value FROM metrics WHERE name = ? ORDER BY step");
  s.bind(1, name);
  std::vector<MetricPoint> out;
  while (s.step()) out.push_back({s.int_at(0), s.double_at(1)});
  return out;
}

std::vector<SampleRecord> RunStore::samples(int64_t step) const {
  Statement s(db_, path_,
              "SELECT grp, idx, prompt, completion, rewards, reward, advantage, policy_version, finish_reason "
              "FROM samples WHERE step = ? ORDER BY grp, idx");
  s.bind(1, step);
  std::vector<SampleRecord> out;
  while (s.step()) {
    SampleRecord r;
    r.group = s.int_at(0);
    r.index = s.int_at(1);
    r.prompt = s.text_at(2);
    r.completion = s.text_at(3);
    r.rewards = nlohmann::json::parse(s.text_at(4)).get<std::map<std::string, double>>();
    r.reward = s.double_at(5);
    r.advantage = s.double_at(6);
    r.policy_version = s.int_at(7);
    r.finish_reason = s.text_at(8);
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::string, double> RunStore::step_metrics(int64_t step) const {
  Statement s(db_, path_, "SELECT name, value FROM metrics WHERE step = ?");
  s.bind(1, step);
  std::map<std::string, double> out;
  while (s.step()) out[s.text_at(0)] = s.double_at(1);
  return out;
}

std::vector<MetricPoint> RunStore::step_times() const {
  Statement s(db_, path_, "SELECT step, time FROM steps ORDER BY step");
  std::vector<MetricPoint> out;
  while (s.step()) out.push_back({s.int_at(0), s.double_at(1)});
  return out;
}

std::map<int64_t, int64_t> RunStore::sample_counts() const {
  Statement s(db_, path_, "SELECT step, COUNT(*) FROM samples GROUP BY step");
  std::map<int64_t, int64_t> out;
  while (s.step()) out[s.int_at(0)] = s.int_at(1);
  return out;
}

std::vector<CheckpointRecord> RunStore::checkpoints() const {
  Statement s(db_, path_, "SELECT step, path, checksum FROM checkpoints ORDER BY step");
  std::vector<CheckpointRecord> out;
  while (s.step()) out.push_back({s.int_at(0), s.text_at(1), s.text_at(2)});
  return out;
}

std::vector<EventRecord> RunStore::events() const {
  Statement s(db_, path_, "SELECT step, level, source, message, time FROM events ORDER BY id");
  std::vector<EventRecord> out;
  while (s.step()) out.push_back({s.int_at(0), s.text_at(1), s.text_at(2), s.text_at(3), s.double_at(4)});
  return out;
}

std::string RunStore::integrity_check() const {
  Statement s(db_, path_, "PRAGMA integrity_check");
  return s.step() ? s.text_at(0) : "no answer";
}

}  // namespace grpo
