// chart_plan.h: which charts the report draws, decided from metric names
// alone (the naming convention of docs/report.md). Pure function; no I/O.
//
//   std::vector<Section> plan = plan_charts(store.metric_names());
//
// Rules, applied in this order (each metric is drawn at least once):
//  1. `<prefix>/layer<L>/expert<E>/<stat>`: one heatmap per (prefix, L, stat),
//     steps across, experts down (MoE expert load).
//  2. `time/<phase>` (two segments): one stacked-area chart of the step-time
//     breakdown; `time/step` (or `time/total`), when present, is drawn as the
//     line over the stack instead of being stacked.
//  3. `<S>/<x>/<rest>` for two or more values of x: one overlay chart
//     `<S>/*/<rest>` (reward components, per-phase tokens/s, clip fractions),
//     plus `<S>/<rest>` as "total" when it exists.
//  4. Everything else, grouped by its name less a trailing statistic
//     (mean, min, max, std, median, pNN): one chart per group, a line per
//     statistic and mean ± std as a band. A single-statistic group already
//     drawn in an overlay gets no chart of its own.
// Sections are first name segments; well-known ones come first (reward,
// accuracy, format, completion, kl, entropy, clip, loss, optim, throughput,
// time, staleness, logprob_gap, moe), the rest alphabetically.
#pragma once

#include <string>
#include <vector>

namespace grpo::report {

enum class ChartKind { kLines, kStacked, kHeatmap };

// One curve (lines, stacked) or one heatmap row.
struct Series {
  std::string metric;  // full metric name in the store
  std::string label;   // legend text: the statistic, component, phase or expert
};

struct Chart {
  std::string id;     // unique in the page, usable as an HTML id
  std::string title;  // metric name or pattern, e.g. "reward/*/mean"
  ChartKind kind = ChartKind::kLines;
  std::vector<Series> series;
  // kLines: mean ± std drawn as a band (both empty when there is none).
  std::string band_mean, band_std;
  // kStacked: the metric drawn as a line over the stack (empty if none).
  std::string total;
};

struct Section {
  std::string key;    // first name segment, e.g. "reward"
  std::string title;  // human title, e.g. "Reward"
  std::vector<Chart> charts;
};

std::vector<Section> plan_charts(const std::vector<std::string>& metric_names);

}  // namespace grpo::report
