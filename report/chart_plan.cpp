#include "report/chart_plan.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <tuple>

namespace grpo::report {
namespace {

struct KnownSection {
  const char* key;
  const char* title;
};
// The order a reader of an RL run looks in: is it learning, how does it
// behave, is the optimisation healthy, is the system fast.
const KnownSection kKnownSections[] = {
    {"reward", "Reward"},         {"accuracy", "Accuracy"},
    {"format", "Format"},         {"completion", "Completions"},
    {"kl", "KL divergence"},      {"entropy", "Entropy"},
    {"clip", "Clipping"},         {"loss", "Loss"},
    {"optim", "Optimizer"},       {"throughput", "Throughput"},
    {"time", "Step time"},        {"staleness", "Staleness"},
    {"logprob_gap", "Train vs rollout log-prob gap"}, {"moe", "MoE routing"},
};

std::vector<std::string> split(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = name.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(name.substr(start, slash - start));
  parts.push_back(name.substr(start));
  return parts;
}

std::string join(const std::vector<std::string>& parts, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) out += (i > from ? "/" : "") + parts[i];
  return out;
}

bool is_statistic(const std::string& segment) {
  static const std::regex stat("mean|min|max|std|median|p[0-9]+");
  return std::regex_match(segment, stat);
}

std::string section_of(const std::string& name) { return split(name).front(); }

std::string make_id(const std::string& title) {
  std::string id = "chart-";
  for (char c : title) id += std::isalnum(static_cast<unsigned char>(c)) ? c : (c == '*' ? 'X' : '-');
  return id;
}

// Charts by section, in rank order within each (rank: section's own metric,
// overlays, stacked, other lines, heatmaps).
using Ranked = std::map<std::string, std::vector<std::pair<int, Chart>>>;

void add(Ranked& out, const std::string& section, int rank, Chart chart) {
  chart.id = make_id(chart.title);
  out[section].emplace_back(rank, std::move(chart));
}

// Rule 1: MoE-style heatmaps. Returns the metrics it consumed.
std::set<std::string> plan_heatmaps(const std::vector<std::string>& names, Ranked& out) {
  static const std::regex pattern("(.*)/layer([0-9]+)/expert([0-9]+)/(.+)");
  // (prefix, layer, stat) -> expert -> metric
  std::map<std::tuple<std::string, int, std::string>, std::map<int, std::string>> maps;
  for (const std::string& name : names) {
    std::smatch m;
    if (std::regex_match(name, m, pattern))
      maps[{m[1].str(), std::stoi(m[2].str()), m[4].str()}][std::stoi(m[3].str())] = name;
  }
  std::set<std::string> used;
  for (const auto& [key, experts] : maps) {
    const auto& [prefix, layer, stat] = key;
    Chart c;
    c.kind = ChartKind::kHeatmap;
    c.title = prefix + "/layer" + std::to_string(layer) + "/expert*/" + stat;
    for (const auto& [expert, metric] : experts) {
      c.series.push_back({metric, "expert " + std::to_string(expert)});
      used.insert(metric);
    }
    add(out, section_of(prefix), 4, std::move(c));
  }
  return used;
}

// Rule 2: the step-time breakdown.
std::set<std::string> plan_step_time(const std::vector<std::string>& names, Ranked& out) {
  Chart c;
  c.kind = ChartKind::kStacked;
  c.title = "time/* (step-time breakdown, s)";
  for (const std::string& name : names) {
    auto parts = split(name);
    if (parts.size() != 2 || parts[0] != "time") continue;
    if (parts[1] == "step" || parts[1] == "total") c.total = name;
    else c.series.push_back({name, parts[1]});
  }
  if (c.series.empty()) return {};
  std::set<std::string> used;
  for (const Series& s : c.series) used.insert(s.metric);
  if (!c.total.empty()) used.insert(c.total);
  add(out, "time", 2, std::move(c));
  return used;
}

// Rule 3: overlays of <S>/*/<rest>. Returns the metrics drawn in one.
std::set<std::string> plan_overlays(const std::vector<std::string>& names, const std::set<std::string>& taken,
                                    Ranked& out) {
  std::set<std::string> all(names.begin(), names.end());
  std::map<std::pair<std::string, std::string>, std::vector<Series>> groups;  // (S, rest) -> components
  for (const std::string& name : names) {
    if (taken.count(name)) continue;
    auto parts = split(name);
    if (parts.size() < 3) continue;
    groups[{parts[0], join(parts, 2, parts.size())}].push_back({name, parts[1]});
  }
  std::set<std::string> used;
  for (auto& [key, components] : groups) {
    if (components.size() < 2) continue;
    const auto& [section, rest] = key;
    Chart c;
    c.title = section + "/*/" + rest;
    std::string total = section + "/" + rest;
    if (all.count(total) && !taken.count(total)) c.series.push_back({total, "total"});
    for (const Series& s : components) c.series.push_back(s);
    for (const Series& s : c.series) used.insert(s.metric);
    add(out, section, 1, std::move(c));
  }
  return used;
}

// Rule 4: one chart per name-less-statistic.
void plan_statistics(const std::vector<std::string>& names, const std::set<std::string>& taken,
                     const std::set<std::string>& in_overlay, Ranked& out) {
  std::map<std::string, std::vector<Series>> groups;  // base -> statistics
  for (const std::string& name : names) {
    if (taken.count(name)) continue;
    auto parts = split(name);
    bool stat = parts.size() > 1 && is_statistic(parts.back());
    std::string base = stat ? join(parts, 0, parts.size() - 1) : name;
    groups[base].push_back({name, parts.back()});
  }
  for (auto& [base, stats] : groups) {
    if (stats.size() == 1 && in_overlay.count(stats.front().metric)) continue;
    Chart c;
    c.title = base;
    for (const Series& s : stats) {
      if (s.label == "mean") c.band_mean = s.metric;
      if (s.label == "std") c.band_std = s.metric;
    }
    if (c.band_mean.empty() || c.band_std.empty()) c.band_mean.clear(), c.band_std.clear();
    for (const Series& s : stats)
      if (s.metric != c.band_std) c.series.push_back(s);
    // mean first: it is the curve people read; min/max frame it.
    std::stable_sort(c.series.begin(), c.series.end(),
                     [](const Series& a, const Series& b) { return (a.label == "mean") > (b.label == "mean"); });
    std::string section = section_of(base);
    add(out, section, base == section ? 0 : 3, std::move(c));
  }
}

}  // namespace

std::vector<Section> plan_charts(const std::vector<std::string>& metric_names) {
  std::vector<std::string> names = metric_names;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  Ranked ranked;
  std::set<std::string> taken = plan_heatmaps(names, ranked);
  std::set<std::string> time = plan_step_time(names, ranked);
  taken.insert(time.begin(), time.end());
  std::set<std::string> in_overlay = plan_overlays(names, taken, ranked);
  plan_statistics(names, taken, in_overlay, ranked);

  std::vector<Section> out;
  auto emit = [&](const std::string& key, const std::string& title) {
    auto it = ranked.find(key);
    if (it == ranked.end()) return;
    auto& charts = it->second;
    std::stable_sort(charts.begin(), charts.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first, a.second.title) < std::tie(b.first, b.second.title);
    });
    Section s{key, title, {}};
    for (auto& [rank, chart] : charts) s.charts.push_back(std::move(chart));
    out.push_back(std::move(s));
    ranked.erase(it);
  };
  for (const KnownSection& k : kKnownSections) emit(k.key, k.title);
  std::vector<std::string> rest;
  for (const auto& [key, charts] : ranked) rest.push_back(key);
  for (const std::string& key : rest) emit(key, key);
  return out;
}

}  // namespace grpo::report
