// data_parallel.cpp: see data_parallel.h. The c10d headers stay in this file
// (with USE_C10D_GLOO and the Gloo declarations of internal/gloo_decls).
#include "learner/data_parallel.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "core/torch_compat.h"

#if GRPO_HAS_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace grpo::learner {
namespace {

int env_int(const char* name, int fallback, int min) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < min || x > 65535)
    throw Error(std::string("environment variable ") + name + "='" + v + "' is not an integer >= " + std::to_string(min));
  return static_cast<int>(x);
}

}  // namespace

DataParallelOptions DataParallelOptions::from_env() {
  DataParallelOptions o;
  o.rank = env_int("RANK", 0, 0);
  o.world_size = env_int("WORLD_SIZE", 1, 1);
  if (const char* a = std::getenv("MASTER_ADDR"); a != nullptr && *a != '\0') o.master_addr = a;
  o.master_port = env_int("MASTER_PORT", o.master_port, 1);
  if (o.rank >= o.world_size)
    throw Error("environment: RANK=" + std::to_string(o.rank) + " but WORLD_SIZE=" + std::to_string(o.world_size) +
                " (ranks are 0 .. WORLD_SIZE-1)");
  return o;
}

#if GRPO_HAS_C10D_GLOO

struct DataParallel::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

namespace {

// Runs one collective to completion, turning c10d's exceptions into ours.
template <typename F>
void collective(const char* what, F&& f) {
  try {
    f()->wait();
  } catch (const std::exception& e) {
    throw Error(std::string("data parallel ") + what + " failed (did another rank stop?): " + e.what());
  }
}

}  // namespace

DataParallel::DataParallel(const DataParallelOptions& options) : options_(options) {
  if (options.world_size <= 1) return;  // one rank: every collective is the identity
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(options.master_port);
    so.isServer = options.rank == 0;
    so.numWorkers = static_cast<size_t>(options.world_size);
    so.timeout = timeout;
    group_ = std::make_unique<Group>();
    group_->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
    auto go = c10d::ProcessGroupGloo::Options::create(timeout);
    // Local ranks talk over loopback; other hosts over this host's address.
    const bool local = options.master_addr == "127.0.0.1" || options.master_addr == "localhost";
    go->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                : c10d::ProcessGroupGloo::createDefaultDevice());
    group_->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, options.rank, options.world_size, go);
  } catch (const std::exception& e) {
    throw Error("data parallel rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size) +
                ": rendezvous at " + options.master_addr + ":" + std::to_string(options.master_port) +
                " failed (MASTER_ADDR/MASTER_PORT): " + e.what());
  }
}

std::vector<double> DataParallel::all_reduce(const std::vector<double>& values, Reduce op) {
  if (!group_ || values.empty()) return values;
  std::vector<at::Tensor> t{torch::tensor(values, torch::kDouble)};
  c10d::AllreduceOptions o;
  o.reduceOp = op == Reduce::kSum ? c10d::ReduceOp::SUM : op == Reduce::kMax ? c10d::ReduceOp::MAX : c10d::ReduceOp::MIN;
  collective("all_reduce", [&] { return group_->backend->allreduce(t, o); });
  auto* p = t[0].data_ptr<double>();
  return std::vector<double>(p, p + values.size());
}

void DataParallel::sum_in_place(const std::vector<torch::Tensor>& tensors) {
  if (!group_) return;
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  for (const auto& tensor : tensors) {  // Gloo reads a list as per-device copies: one call each
    if (!tensor.is_contiguous()) throw Error("data parallel all_reduce: tensors must be contiguous");
    std::vector<at::Tensor> t{tensor};
    collective("all_reduce", [&] { return group_->backend->allreduce(t, o); });
  }
}

void DataParallel::broadcast(std::vector<torch::Tensor> tensors, int root) {
  if (!group_) return;
  c10d::BroadcastOptions o;
  o.rootRank = root;
  // Gloo reads a list as copies of one tensor (one per device): one call each.
  for (const auto& t : tensors) {
    if (t.numel() == 0) continue;
    if (!t.is_contiguous()) throw Error("data parallel broadcast: tensors must be contiguous");
    std::vector<at::Tensor> one{t};
    collective("broadcast", [&] { return group_->backend->broadcast(one, o); });
  }
}

namespace {
constexpr const char* kPostedKey = "grpo/posted";
}  // namespace

void DataParallel::post() {
  if (!group_) return;
  if (!is_primary()) throw Error("data parallel: only rank 0 posts");
  try {
    group_->store->add(kPostedKey, 1);
  } catch (const std::exception& e) {
    throw Error(std::string("data parallel: cannot reach the rendezvous store: ") + e.what());
  }
}

void DataParallel::wait_posted() {
  if (!group_) return;
  const int64_t want = waited_ + 1;
  try {
    // Polls (add 0 reads the counter): a blocking store wait would time out.
    while (group_->store->add(kPostedKey, 0) < want) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } catch (const std::exception& e) {
    throw Error("data parallel rank " + std::to_string(rank()) + ": rank 0's store at " + options_.master_addr + ":" +
                std::to_string(options_.master_port) + " is gone (did rank 0 stop?): " + e.what());
  }
  waited_ = want;
}

#else  // LibTorch without c10d Gloo (1.13 from Debian): one rank only.

struct DataParallel::Group {};

DataParallel::DataParallel(const DataParallelOptions& options) : options_(options) {
  if (options.world_size > 1)
    throw Error("data parallel training (WORLD_SIZE=" + std::to_string(options.world_size) +
                ") needs LibTorch 2.x with c10d Gloo (this build uses LibTorch " + compat::torch_version() + ")");
}

std::vector<double> DataParallel::all_reduce(const std::vector<double>& values, Reduce) { return values; }
void DataParallel::broadcast(std::vector<torch::Tensor>, int) {}
void DataParallel::sum_in_place(const std::vector<torch::Tensor>&) {}
void DataParallel::post() {}
void DataParallel::wait_posted() {}

#endif

DataParallel::~DataParallel() = default;

void DataParallel::broadcast_parameters(const std::vector<torch::Tensor>& parameters) {
  if (world_size() <= 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> data;
  for (const auto& p : parameters) data.push_back(p.detach());  // shares storage: updated in place
  broadcast(data);
}

void DataParallel::average_gradients(const std::vector<torch::Tensor>& parameters) {
  if (world_size() <= 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (auto p : parameters) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.mutable_grad());
  }
  // Consecutive gradients of one dtype, flattened, up to bucket_bytes each.
  size_t begin = 0;
  while (begin < grads.size()) {
    size_t end = begin;
    int64_t bytes = 0;
    while (end < grads.size() && grads[end].scalar_type() == grads[begin].scalar_type() &&
           (end == begin || bytes + grads[end].nbytes() <= static_cast<size_t>(options_.bucket_bytes))) {
      bytes += static_cast<int64_t>(grads[end].nbytes());
      ++end;
    }
    std::vector<torch::Tensor> flat_parts;
    for (size_t i = begin; i < end; ++i) flat_parts.push_back(grads[i].reshape({-1}));
    torch::Tensor flat = torch::cat(flat_parts);
    sum_in_place({flat});
    flat.div_(static_cast<double>(world_size()));
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t n = grads[i].numel();
      grads[i].copy_(flat.narrow(0, offset, n).view_as(grads[i]));
      offset += n;
    }
    begin = end;
  }
}

}  // namespace grpo::learner
