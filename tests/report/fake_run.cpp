#include "tests/report/fake_run.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace grpo::testing {

StepRecord fake_step(int64_t step, const FakeRunShape& shape) {
  std::mt19937 rng(shape.seed * 1000003u + static_cast<uint32_t>(step));
  std::normal_distribution<double> noise(0.0, 1.0);
  double t = static_cast<double>(step) / shape.steps;  // progress in [0, 1]
  StepRecord r;
  r.step = step;
  auto& m = r.metrics;
  double accuracy = std::clamp(0.1 + 0.6 * (1 - std::exp(-3 * t)) + 0.03 * noise(rng), 0.0, 1.0);
  double format = std::clamp(0.3 + 0.7 * (1 - std::exp(-6 * t)) + 0.02 * noise(rng), 0.0, 1.0);
  m["reward/accuracy/mean"] = accuracy;
  m["reward/accuracy/std"] = std::sqrt(accuracy * (1 - accuracy));
  m["reward/format/mean"] = format;
  m["reward/format/std"] = std::sqrt(format * (1 - format));
  m["reward/mean"] = accuracy + format;
  m["reward/std"] = 0.5 + 0.1 * noise(rng);
  m["reward/min"] = 0.0;
  m["reward/max"] = 2.0;
  m["reward/frac_zero_std"] = std::clamp(0.5 - 0.3 * t + 0.05 * noise(rng), 0.0, 1.0);
  m["accuracy/mean"] = accuracy;
  m["format/rate"] = format;
  double length = 180 + 250 * t + 15 * noise(rng);
  m["completion/length/mean"] = length;
  m["completion/length/min"] = length * 0.3;
  m["completion/length/max"] = std::min(1024.0, length * 2.2);
  m["completion/clipped_ratio"] = std::clamp(0.02 + 0.1 * t + 0.01 * noise(rng), 0.0, 1.0);
  m["kl/mean"] = 0.002 * step * (1 + 0.1 * noise(rng));
  m["entropy/mean"] = 1.2 * std::exp(-1.5 * t) + 0.02 * noise(rng);
  m["clip/low/mean"] = std::abs(0.01 + 0.004 * noise(rng));
  m["clip/high/mean"] = std::abs(0.02 + 0.005 * noise(rng));
  m["clip/region/mean"] = m["clip/low/mean"] + m["clip/high/mean"];
  m["loss"] = 0.01 * noise(rng);
  m["optim/grad_norm"] = std::abs(0.8 + 0.3 * noise(rng));
  m["optim/lr"] = 1e-6 * std::min(1.0, step / 10.0);  // 10 warm-up steps
  m["throughput/tokens_per_s"] = 2400 + 100 * noise(rng);
  m["throughput/rollout/tokens_per_s"] = 1800 + 80 * noise(rng);
  m["throughput/learner/tokens_per_s"] = 5200 + 150 * noise(rng);
  m["time/rollout"] = 6.0 + 0.5 * noise(rng) + 4 * t;
  m["time/reward"] = 0.4 + 0.05 * noise(rng);
  m["time/learner"] = 3.0 + 0.2 * noise(rng);
  m["time/weight_sync"] = 0.3 + 0.02 * noise(rng);
  m["time/step"] = m["time/rollout"] + m["time/reward"] + m["time/learner"] + m["time/weight_sync"];
  m["staleness/mean"] = step % 2 ? 0.5 : 0.0;
  m["staleness/max"] = step % 2 ? 1.0 : 0.0;
  m["logprob_gap/mean"] = 0.004 + 0.001 * noise(rng);
  for (int layer = 0; layer < shape.moe_layers; ++layer) {
    // One expert in each layer drifts into overload while the rest share the remainder.
    int hot = (layer * 3 + 1) % shape.experts;
    double hot_share = 1.0 / shape.experts + 0.25 * t;
    for (int e = 0; e < shape.experts; ++e) {
      double load = e == hot ? hot_share : (1.0 - hot_share) / (shape.experts - 1);
      load *= 1 + 0.05 * noise(rng);
      m["moe/layer" + std::to_string(layer) + "/expert" + std::to_string(e) + "/load"] = load;
    }
  }
  if (step % shape.sample_every == 0) {
    for (int g = 0; g < shape.groups; ++g) {
      std::string question = "What is " + std::to_string(step * 7 + g) + " + " + std::to_string(g * 13) + "?";
      for (int i = 0; i < shape.group_size; ++i) {
        SampleRecord s;
        s.group = g;
        s.index = i;
        s.prompt = "A conversation between User and Assistant. User: " + question + " Assistant:";
        bool correct = (rng() % 100) < accuracy * 100;
        bool formatted = (rng() % 100) < format * 100;
        std::string answer = std::to_string(step * 7 + g + g * 13 + (correct ? 0 : 1));
        s.completion = formatted ? "<think> add the two numbers: " + std::to_string(step * 7 + g) + " plus " +
                                       std::to_string(g * 13) + " </think> <answer>" + answer + "</answer>"
                                 : "the answer is " + answer + " <b>&amp;</b> </script> \xE2\x9C\x93";
        s.rewards = {{"accuracy", correct ? 1.0 : 0.0}, {"format", formatted ? 1.0 : 0.0}};
        s.reward = s.rewards["accuracy"] + s.rewards["format"];
        s.advantage = s.reward - m["reward/mean"];
        s.policy_version = step - (step % 2);
        s.finish_reason = (rng() % 10) == 0 ? "length" : "stop";
        r.samples.push_back(s);
      }
    }
  }
  return r;
}

void write_fake_run(RunStore& store, const FakeRunShape& shape) {
  store.set_meta("name", "fake-r1-zero");
  store.set_meta("status", "running");
  store.set_meta("recipe", R"({"learner": {"lr": 1e-6}, "rollout": {"group_size": 4}})");
  for (int64_t step = 1; step <= shape.steps; ++step) {
    store.write_step(fake_step(step, shape));
    if (step % 20 == 0) store.add_checkpoint({step, "checkpoints/step-" + std::to_string(step), "sha256:00"});
  }
  store.add_event({5, "warn", "rollout w1", "worker restarted after a crash"});
  store.add_event({-1, "info", "train", "resumed from checkpoint"});
}

}  // namespace grpo::testing
