// progress.h: how a long job shows it is alive. On a terminal, one line
// redrawn in place (step/total, reward, accuracy, tokens/s, ETA); otherwise a
// plain line every `plain_every` steps, suitable for log files and CI.
//
//   Progress p(/*total=*/100, /*plain_every=*/10, stderr);
//   p.update({.step = 1, .reward = 0.2, .accuracy = 0.1, .tokens_per_second = 900});
//   p.finish();
//
// Not thread-safe: one thread reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace grpo {

// What one progress update reports.
struct ProgressStats {
  int64_t step = 0;
  double reward = 0.0;
  std::optional<double> accuracy;  // fraction in [0, 1]
  double tokens_per_second = 0.0;
};

class Progress {
 public:
  // `terminal` decides the style; by default whether `out` is a terminal.
  Progress(int64_t total_steps, int64_t plain_every, std::FILE* out = stderr, std::optional<bool> terminal = std::nullopt);
  void update(const ProgressStats& stats);
  // Ends the live line (a newline on a terminal).
  void finish();

  // "1h02m", "3m05s", "42s": the estimated time left.
  static std::string format_duration(double seconds);
  // The text of one progress line, without terminal control codes.
  std::string format(const ProgressStats& stats, double elapsed_seconds) const;

 private:
  int64_t total_;
  int64_t plain_every_;
  std::FILE* out_;
  bool terminal_;
  int64_t first_step_ = -1;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

}  // namespace grpo
