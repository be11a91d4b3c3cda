// html_report.h: `grpo report` as a library: one self-contained HTML page
// (no network, no CDN) of a run's store: curves of every metric grouped by
// section (chart_plan.h), MoE expert-load heatmaps, a sample browser
// filterable by step, reward, finish reason and text, checkpoints and events.
//
//   RunStore store(run_store_path("runs/demo"), RunStore::Mode::kReadOnly);
//   write_html_report(store, "runs/demo/report.html");
//
// Works on a run that is still being written: a read-only store sees every
// step committed so far (WAL mode), and the page is replaced atomically, so a
// browser reloading it never reads half a file. Pure reader; thread-safe as
// far as RunStore is (one store per thread).
#pragma once

#include <cstdint>
#include <string>

namespace grpo {
class RunStore;
}

namespace grpo::report {

struct ReportOptions {
  // Page title; empty means the store's "name" meta, else the run folder name.
  std::string title;
  // Samples embedded at most (default 3000: ~2-5 MB of page for R1-style
  // completions). Past it, whole steps are dropped, evenly spaced, always
  // keeping the latest; the page says how many steps it shows.
  int64_t max_samples = 3000;
  // Points per curve at most (default 1000, about the pixels of a chart).
  // Longer runs average consecutive steps in equal step ranges.
  int64_t max_points = 1000;
  // Columns of a heatmap at most (default 200), steps averaged the same way.
  int64_t max_heatmap_columns = 200;
};

// The page as text. Throws IoError (from the store) on a broken database.
std::string render_html_report(const RunStore& store, const ReportOptions& options = {});

// Renders and writes it to `out_path` (temp file in the same folder, then
// rename). Throws IoError naming the path.
void write_html_report(const RunStore& store, const std::string& out_path, const ReportOptions& options = {});

// runs/<name> -> runs/<name>/run.db and runs/<name>/report.html.
std::string run_store_path(const std::string& run_dir);
std::string default_report_path(const std::string& run_dir);

}  // namespace grpo::report
