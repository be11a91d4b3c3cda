// train_state.cpp: see train_state.h.
#include "learner/train_state.h"

#include <filesystem>
#include <fstream>
#include <mutex>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"

namespace grpo::learner {
namespace {

constexpr const char* kState = "trainer_state.json";
constexpr const char* kOptimizer = "optimizer.pt";
constexpr const char* kRng = "rng.pt";

std::string need(const std::string& dir, const char* name) {
  const std::string path = dir + "/" + name;
  if (!std::filesystem::exists(path)) throw IoError(path, "missing from the checkpoint; it was not written by save_train_state");
  return path;
}

}  // namespace

void save_train_state(const std::string& dir, const Optimizer& optimizer, const TrainProgress& progress) {
  {
    std::ofstream out(dir + "/" + kState);
    out << nlohmann::json{{"step", progress.step}, {"data_cursor", progress.data_cursor},
                          {"steps_applied", optimizer.steps_applied()}, {"steps_skipped", optimizer.steps_skipped()},
                          {"extra", progress.extra}}.dump(1);
    if (!out) throw IoError(dir + "/" + kState, "cannot write");
  }
  torch::serialize::OutputArchive opt;
  optimizer.save(opt);
  opt.save_to(dir + "/" + kOptimizer);
  torch::Tensor rng;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng = gen.get_state();
  }
  torch::serialize::OutputArchive r;
  r.write("cpu", rng);
  r.save_to(dir + "/" + kRng);
}

TrainProgress load_train_state(const std::string& dir, Optimizer& optimizer) {
  TrainProgress p;
  try {
    std::ifstream in(need(dir, kState));
    nlohmann::json j = nlohmann::json::parse(in);
    p.step = j.at("step").get<int64_t>();
    p.data_cursor = j.at("data_cursor").get<int64_t>();
    p.extra = j.value("extra", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw IoError(dir + "/" + kState, std::string("unreadable: ") + e.what());
  }
  torch::serialize::InputArchive opt;
  opt.load_from(need(dir, kOptimizer));
  optimizer.load(opt);
  torch::serialize::InputArchive r;
  r.load_from(need(dir, kRng));
  torch::Tensor rng;
  r.read("cpu", rng);
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(rng);
  return p;
}

}  // namespace grpo::learner
