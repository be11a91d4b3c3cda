#include "report/html_report.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/run_store.h"
#include "core/wall_clock.h"
#include "report/chart_plan.h"
#include "report/internal/report_page.h"

namespace grpo::report {
namespace {

using nlohmann::json;

const char* kind_name(ChartKind kind) {
  switch (kind) {
    case ChartKind::kStacked: return "stacked";
    case ChartKind::kHeatmap: return "heatmap";
    default: return "lines";
  }
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// Steps per bucket so that [first, last] fits in `max_points` buckets.
int64_t bucket_width(int64_t first, int64_t last, int64_t max_points) {
  int64_t span = last - first + 1;
  return std::max<int64_t>(1, (span + std::max<int64_t>(1, max_points) - 1) / std::max<int64_t>(1, max_points));
}

// [[step, value], ...]; with width > 1, one point per range of `width` steps
// from `first`: the range's last step and the mean of its finite values.
json downsample(const std::vector<MetricPoint>& points, int64_t first, int64_t width) {
  json out = json::array();
  if (width <= 1) {
    for (const MetricPoint& p : points) out.push_back({p.step, number_or_null(p.value)});
    return out;
  }
  size_t i = 0;
  while (i < points.size()) {
    int64_t bucket = (points[i].step - first) / width;
    double sum = 0;
    int64_t n = 0, step = points[i].step;
    for (; i < points.size() && (points[i].step - first) / width == bucket; ++i) {
      step = points[i].step;
      if (std::isfinite(points[i].value)) sum += points[i].value, ++n;
    }
    out.push_back({step, n ? json(sum / n) : json(nullptr)});
  }
  return out;
}

json chart_json(const Chart& c) {
  json series = json::array();
  for (const Series& s : c.series) series.push_back({{"metric", s.metric}, {"label", s.label}});
  return {{"id", c.id},           {"title", c.title},       {"kind", kind_name(c.kind)}, {"series", series},
          {"band_mean", c.band_mean}, {"band_std", c.band_std}, {"total", c.total}};
}

// Sections, and every metric's (downsampled) points.
void add_metrics(const RunStore& store, const ReportOptions& options, int64_t first, int64_t last, json& data) {
  std::vector<std::string> names = store.metric_names();
  std::vector<Section> plan = plan_charts(names);
  std::set<std::string> heatmap_metrics;
  json sections = json::array();
  for (const Section& s : plan) {
    json charts = json::array();
    for (const Chart& c : s.charts) {
      charts.push_back(chart_json(c));
      if (c.kind == ChartKind::kHeatmap)
        for (const Series& x : c.series) heatmap_metrics.insert(x.metric);
    }
    sections.push_back({{"key", s.key}, {"title", s.title}, {"charts", charts}});
  }
  int64_t line_width = bucket_width(first, last, options.max_points);
  int64_t heat_width = bucket_width(first, last, options.max_heatmap_columns);
  json metrics = json::object();
  for (const std::string& name : names)
    metrics[name] = downsample(store.metric(name), first, heatmap_metrics.count(name) ? heat_width : line_width);
  data["sections"] = std::move(sections);
  data["metrics"] = std::move(metrics);
}

// Steps whose samples go into the page: all of them when they fit, else
// every k-th step counted back from the latest.
std::vector<int64_t> pick_sample_steps(const std::map<int64_t, int64_t>& counts, int64_t max_samples) {
  std::vector<int64_t> steps;
  int64_t total = 0;
  for (const auto& [step, n] : counts) steps.push_back(step), total += n;
  if (total <= max_samples) return steps;
  int64_t stride = (total + std::max<int64_t>(1, max_samples) - 1) / std::max<int64_t>(1, max_samples);
  std::vector<int64_t> picked;
  int64_t taken = 0;
  for (int64_t i = static_cast<int64_t>(steps.size()) - 1; i >= 0; i -= stride) {
    int64_t n = counts.at(steps[i]);
    if (taken + n > max_samples && !picked.empty()) break;
    picked.insert(picked.begin(), steps[i]);
    taken += n;
  }
  return picked;
}

void add_samples(const RunStore& store, const ReportOptions& options, json& data) {
  std::map<int64_t, int64_t> counts = store.sample_counts();
  std::vector<int64_t> steps = pick_sample_steps(counts, options.max_samples);
  json samples = json::array(), prompts = json::array();
  std::map<std::string, int64_t> prompt_index;  // a group's G samples share one prompt
  for (int64_t step : steps) {
    for (const SampleRecord& s : store.samples(step)) {
      auto [it, added] = prompt_index.emplace(s.prompt, static_cast<int64_t>(prompts.size()));
      if (added) prompts.push_back(s.prompt);
      json rewards = json::object();
      for (const auto& [k, v] : s.rewards) rewards[k] = number_or_null(v);
      samples.push_back({{"step", step}, {"group", s.group}, {"index", s.index}, {"prompt", it->second},
                         {"completion", s.completion}, {"rewards", rewards}, {"reward", number_or_null(s.reward)},
                         {"advantage", number_or_null(s.advantage)}, {"version", s.policy_version},
                         {"finish", s.finish_reason}});
    }
  }
  data["samples"] = std::move(samples);
  data["prompts"] = std::move(prompts);
  data["sample_steps"] = {{"shown", steps.size()}, {"total", counts.size()}};
}

void add_run_facts(const RunStore& store, const ReportOptions& options, json& data) {
  std::map<std::string, std::string> meta = store.all_meta();
  std::string title = options.title;
  if (title.empty() && meta.count("name")) title = meta["name"];
  if (title.empty()) {
    std::filesystem::path dir = std::filesystem::absolute(store.path()).parent_path();
    title = dir.filename().string();
  }
  data["title"] = title;
  data["store"] = store.path();
  data["generated"] = unix_seconds();
  data["meta"] = meta;
  json checkpoints = json::array(), events = json::array();
  for (const CheckpointRecord& c : store.checkpoints())
    checkpoints.push_back({{"step", c.step}, {"path", c.path}, {"checksum", c.checksum}});
  for (const EventRecord& e : store.events())
    events.push_back({{"step", e.step}, {"level", e.level}, {"source", e.source}, {"message", e.message}, {"time", e.time}});
  data["checkpoints"] = std::move(checkpoints);
  data["events"] = std::move(events);
}

// JSON safe inside <script>: '<' only occurs in strings, where \u003c is the
// same character, so no "</script>" or "<!--" in a completion can end the block.
std::string script_safe_json(const json& data) {
  // Completions may hold invalid UTF-8 (a byte-level token cut mid-character):
  // replaced by U+FFFD rather than failing the report.
  std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

}  // namespace

std::string render_html_report(const RunStore& store, const ReportOptions& options) {
  json data;
  add_run_facts(store, options, data);
  std::vector<MetricPoint> times = store.step_times();
  int64_t first = times.empty() ? 0 : times.front().step;
  int64_t last = times.empty() ? 0 : times.back().step;
  double elapsed = times.size() > 1 ? times.back().value - times.front().value : 0.0;
  data["steps"] = {{"count", times.size()}, {"first", first}, {"last", last}, {"elapsed_s", elapsed}};
  add_metrics(store, options, first, last, data);
  add_samples(store, options, data);
  return std::string(internal::report_page_head()) + script_safe_json(data) + internal::report_page_tail();
}

void write_html_report(const RunStore& store, const std::string& out_path, const ReportOptions& options) {
  std::string html = render_html_report(store, options);
  std::filesystem::path out(out_path);
  std::error_code ec;
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path(), ec);
  std::string tmp = out_path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw IoError(tmp, "cannot write the report (is the folder writable?)");
    f << html;
    f.close();
    if (!f) throw IoError(tmp, "cannot write the report (disk full?)");
  }
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw IoError(out_path, "cannot move the report into place: " + ec.message());
  }
}

std::string run_store_path(const std::string& run_dir) { return run_dir + "/run.db"; }
std::string default_report_path(const std::string& run_dir) { return run_dir + "/report.html"; }

}  // namespace grpo::report
