#include "core/progress.h"

#include <unistd.h>

#include <cmath>

namespace grpo {

Progress::Progress(int64_t total_steps, int64_t plain_every, std::FILE* out, std::optional<bool> terminal)
    : total_(total_steps),
      plain_every_(plain_every < 1 ? 1 : plain_every),
      out_(out),
      terminal_(terminal.value_or(isatty(fileno(out)) != 0)),
      start_(std::chrono::steady_clock::now()) {}

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  }
  return buf;
}

std::string Progress::format(const ProgressStats& s, double elapsed) const {
  // ETA from the steps done since this process started (a resumed run does
  // not count the steps it inherited).
  int64_t done = s.step - first_step_ + 1;
  double per_step = done > 0 ? elapsed / static_cast<double>(done) : 0.0;
  double eta = per_step * static_cast<double>(total_ - s.step);
  char buf[256];
  std::string acc = s.accuracy ? " | acc " + std::to_string(static_cast<int>(std::lround(*s.accuracy * 100))) + "%" : "";
  std::snprintf(buf, sizeof buf, "step %lld/%lld | reward %.3f%s | %.0f tok/s | ETA %s", static_cast<long long>(s.step),
                static_cast<long long>(total_), s.reward, acc.c_str(), s.tokens_per_second,
                format_duration(eta).c_str());
  return buf;
}

void Progress::update(const ProgressStats& stats) {
  if (first_step_ < 0) first_step_ = stats.step;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = format(stats, elapsed);
  if (terminal_) {
    std::fprintf(out_, "\r\033[K%s", line.c_str());
    drawn_ = true;
  } else if (stats.step % plain_every_ == 0 || stats.step == total_) {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (terminal_ && drawn_) std::fputc('\n', out_);
  drawn_ = false;
  std::fflush(out_);
}

}  // namespace grpo
