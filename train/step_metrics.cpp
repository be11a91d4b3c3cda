#include "train/step_metrics.h"

#include <algorithm>
#include <cmath>

namespace grpo::train {
namespace {

struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
};

// REQUIRES: !v.empty(). Sample std (Bessel), as the advantages use.
Stats stats_of(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0.0;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

}  // namespace

bool counts_as_correct(double accuracy_score) { return accuracy_score >= 1.0 - 1e-9; }

MetricRoles metric_roles(const std::vector<std::string>& reward_types) {
  MetricRoles roles;
  for (size_t i = 0; i < reward_types.size(); ++i) {
    const std::string& t = reward_types[i];
    if (roles.accuracy_component < 0 && (t == "math" || t == "countdown" || t == "code")) roles.accuracy_component = static_cast<int>(i);
    if (roles.format_component < 0 && t == "format") roles.format_component = static_cast<int>(i);
  }
  return roles;
}

std::map<std::string, double> rollout_metrics(const std::vector<rollout::GroupResult>& results,
                                              const std::vector<rewards::ScoredSample>& scored,
                                              const std::vector<std::string>& component_names, const MetricRoles& roles) {
  std::map<std::string, double> m;
  std::vector<double> totals, lengths;
  std::vector<std::vector<double>> components(component_names.size());
  double clipped = 0, correct = 0, formatted = 0;
  size_t k = 0;
  for (const auto& group : results) {
    for (const auto& c : group.completions) {
      const rewards::ScoredSample& s = scored.at(k++);
      totals.push_back(s.total);
      lengths.push_back(static_cast<double>(c.ids.size()));
      clipped += c.finish_reason == rollout::FinishReason::kLength;
      for (size_t j = 0; j < s.components.size() && j < components.size(); ++j)
        if (s.components[j].has_score) components[j].push_back(s.components[j].score);
      if (roles.accuracy_component >= 0) correct += counts_as_correct(s.components[roles.accuracy_component].score);
      if (roles.format_component >= 0) formatted += s.components[roles.format_component].score > 0.0;
    }
  }
  if (totals.empty()) return m;
  double n = static_cast<double>(totals.size());
  Stats r = stats_of(totals);
  m["reward/mean"] = r.mean;
  m["reward/std"] = r.std;
  m["reward/min"] = r.min;
  m["reward/max"] = r.max;
  for (size_t j = 0; j < components.size(); ++j) {
    if (components[j].empty()) continue;
    Stats c = stats_of(components[j]);
    m["reward/" + component_names[j] + "/mean"] = c.mean;
    m["reward/" + component_names[j] + "/std"] = c.std;
  }
  Stats len = stats_of(lengths);
  m["completion/length/mean"] = len.mean;
  m["completion/length/min"] = len.min;
  m["completion/length/max"] = len.max;
  m["completion/clipped_ratio"] = clipped / n;
  if (roles.accuracy_component >= 0) m["accuracy/mean"] = correct / n;
  if (roles.format_component >= 0) m["format/rate"] = formatted / n;
  return m;
}

}  // namespace grpo::train
