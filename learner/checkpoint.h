// checkpoint.h: atomic, verifiable checkpoint directories with retention.
//
// Layout: <root>/step-00000042/ holds whatever the writer put there plus
// MANIFEST.json (every file's size and FNV-1a 64 hash, written last). A save
// writes into <root>/.tmp-step-00000042-<pid>/, fsyncs every file and the
// directory, renames it into place and fsyncs <root>: a crash at any point
// leaves either the old set of checkpoints or the new one, never a
// half-written step directory. A checkpoint whose manifest is missing or whose
// files disagree with it (torn by a bad disk or a hand edit) is skipped by
// latest_checkpoint() in favour of the previous one.
//
// Usage:
//   save_checkpoint(root, step, [&](const std::string& dir) { model->save_hf(dir + "/model"); }, {3, 100});
//   if (auto ckpt = latest_checkpoint(root)) load_from(ckpt->dir);
//
// Not thread-safe for the same root; one learner (rank 0) writes it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grpo::learner {

// Which checkpoints survive a save: the newest keep_last, plus every step that
// is a multiple of keep_every (when > 0).
struct RetentionPolicy {
  int keep_last = 3;
  int64_t keep_every = 0;
};

struct CheckpointInfo {
  int64_t step = 0;
  std::string dir;  // <root>/step-XXXXXXXX
};

// Writes the files of a checkpoint into the directory it is given.
using CheckpointWriter = std::function<void(const std::string& dir)>;
// Called with a phase name ("files_written", "manifest_written", "renamed")
// during a save; tests use it to kill the process at a known point.
using CheckpointHook = std::function<void(const std::string& phase)>;

// Writes checkpoint `step` atomically, then prunes per `retention`. Returns its
// directory. Throws IoError (naming the path) when writing fails; an existing
// checkpoint of the same step is replaced only after the new one is complete.
std::string save_checkpoint(const std::string& root, int64_t step, const CheckpointWriter& write,
                            const RetentionPolicy& retention = {}, const CheckpointHook& hook = {});

// Complete step directories under root, oldest first (not verified).
std::vector<CheckpointInfo> list_checkpoints(const std::string& root);

// True when dir has a manifest and every file matches it; *why says what is wrong.
bool verify_checkpoint(const std::string& dir, std::string* why = nullptr);

// The newest checkpoint that verifies; torn ones are logged and skipped.
std::optional<CheckpointInfo> latest_checkpoint(const std::string& root);

}  // namespace grpo::learner
