// data_parallel.cpp: see data_parallel.h. The c10d headers stay in this file
// (with USE_C10D_GLOO and the Gloo declarations of internal/gloo_decls; with
// USE_C10D_NCCL, ProcessGroupNCCL and nccl.h, learner/CMakeLists.txt). The
// groups are used through compat::C10dBackend, as LibTorch 1.13 and 2.x
// differ there only.
#include "learner/data_parallel.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "core/torch_compat.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if GRPO_HAS_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
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

bool nccl_built() { return GRPO_HAS_C10D_NCCL != 0; }

DpBackend choose_backend(const torch::Device& device, bool have_nccl) {
  if (device.is_cpu()) return DpBackend::kGloo;
  if (!device.is_cuda())
    throw ConfigError("", "model.device", "data parallel training runs on \"cpu\" (Gloo) or \"cuda\" (NCCL), not " + device.str());
  if (!have_nccl)
    throw ConfigError("", "model.device",
                      "data parallel training on CUDA needs c10d NCCL, which this build lacks (a CUDA LibTorch 2.x whose "
                      "CMake config defines USE_C10D_NCCL, configured with GRPO_CUDA=ON; docs/gpu.md); set model.device "
                      "to \"cpu\" for Gloo or train on one rank");
  return DpBackend::kNccl;
}

std::string rank_model_device(const std::string& model_device, int local_rank, int world_size) {
  if (world_size <= 1 || model_device == "cpu") return model_device;
  if (model_device == "cuda") return "cuda:" + std::to_string(local_rank);
  if (model_device.rfind("cuda:", 0) == 0)
    throw ConfigError("", "model.device",
                      "\"" + model_device + "\" puts all " + std::to_string(world_size) +
                      " data-parallel ranks on one GPU, which NCCL refuses; set \"cuda\" (rank r then uses cuda:LOCAL_RANK)");
  return model_device;  // device_from_config reports anything else
}

DataParallelOptions DataParallelOptions::from_env() {
  DataParallelOptions o;
  o.rank = env_int("RANK", 0, 0);
  o.world_size = env_int("WORLD_SIZE", 1, 1);
  o.local_rank = env_int("LOCAL_RANK", o.rank, 0);
  if (const char* a = std::getenv("MASTER_ADDR"); a != nullptr && *a != '\0') o.master_addr = a;
  o.master_port = env_int("MASTER_PORT", o.master_port, 1);
  if (o.rank >= o.world_size)
    throw Error("environment: RANK=" + std::to_string(o.rank) + " but WORLD_SIZE=" + std::to_string(o.world_size) +
                " (ranks are 0 .. WORLD_SIZE-1)");
  return o;
}

struct DataParallel::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::C10dBackend> backend;
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

c10::intrusive_ptr<compat::C10dBackend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, const DataParallelOptions& o,
                                            std::chrono::milliseconds timeout) {
  auto go = c10d::ProcessGroupGloo::Options::create(timeout);
  // Local ranks talk over loopback; other hosts over this host's address.
  const bool local = o.master_addr == "127.0.0.1" || o.master_addr == "localhost";
  go->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                              : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.world_size, go);
}

// The only CUDA-specific code of data parallelism (compiled with c10d NCCL).
c10::intrusive_ptr<compat::C10dBackend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, const DataParallelOptions& o,
                                            std::chrono::milliseconds timeout) {
#if GRPO_HAS_C10D_NCCL
  // This rank's GPU becomes the current device (as torch.cuda.set_device in
  // torchrun scripts), so allocations without an index land there too, and
  // the group binds its communicator to it.
  c10::cuda::set_device(o.device.index());
  auto no = c10d::ProcessGroupNCCL::Options::create();
  no->timeout = timeout;
  auto backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, o.rank, o.world_size, no);
  backend->setBoundDeviceId(o.device);
  return backend;
#else
  throw Error("data parallel: NCCL requested in a build without c10d NCCL");  // choose_backend refuses first
#endif
}

}  // namespace

DataParallel::DataParallel(const DataParallelOptions& options) : options_(options) {
  backend_ = choose_backend(options.device);
  if (options.world_size <= 1) return;  // one rank: every collective is the identity
  if (backend_ == DpBackend::kNccl && !options.device.has_index())
    throw Error("data parallel: the CUDA device of an NCCL rank needs an index (rank_model_device gives cuda:LOCAL_RANK)");
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(options.master_port);
    so.isServer = options.rank == 0;
    so.numWorkers = static_cast<size_t>(options.world_size);
    so.timeout = timeout;
    group_ = std::make_unique<Group>();
    group_->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
    group_->backend = backend_ == DpBackend::kNccl ? make_nccl(group_->store, options, timeout)
                                                   : make_gloo(group_->store, options, timeout);
  } catch (const std::exception& e) {
    throw Error("data parallel rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size) +
                ": rendezvous at " + options.master_addr + ":" + std::to_string(options.master_port) +
                " failed (MASTER_ADDR/MASTER_PORT): " + e.what());
  }
}

namespace {

// Runs `op` on a one-tensor list holding `t`, or, for a CPU tensor on an
// NCCL group, a copy of it on `device` that is copied back afterwards (NCCL
// reads GPU memory only). Both backends read a list as per-device copies of
// one tensor, hence one tensor per call.
template <typename Op>
void on_backend(const at::Tensor& t, DpBackend backend, const torch::Device& device, Op&& op) {
  const bool stage = backend == DpBackend::kNccl && t.is_cpu();
  std::vector<at::Tensor> one{stage ? t.to(device) : t};
  op(one);
  if (stage) t.copy_(one[0]);
}

}  // namespace

std::vector<double> DataParallel::all_reduce(const std::vector<double>& values, Reduce op) {
  if (!group_ || values.empty()) return values;
  torch::Tensor t = torch::tensor(values, torch::kDouble);
  c10d::AllreduceOptions o;
  o.reduceOp = op == Reduce::kSum ? c10d::ReduceOp::SUM : op == Reduce::kMax ? c10d::ReduceOp::MAX : c10d::ReduceOp::MIN;
  on_backend(t, backend_, options_.device, [&](std::vector<at::Tensor>& one) {
    collective("all_reduce", [&] { return group_->backend->allreduce(one, o); });
  });
  auto* p = t.data_ptr<double>();
  return std::vector<double>(p, p + values.size());
}

void DataParallel::sum_in_place(const std::vector<torch::Tensor>& tensors) {
  if (!group_) return;
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  for (const auto& tensor : tensors) {
    if (!tensor.is_contiguous()) throw Error("data parallel all_reduce: tensors must be contiguous");
    on_backend(tensor, backend_, options_.device, [&](std::vector<at::Tensor>& one) {
      collective("all_reduce", [&] { return group_->backend->allreduce(one, o); });
    });
  }
}

void DataParallel::broadcast(std::vector<torch::Tensor> tensors, int root) {
  if (!group_) return;
  c10d::BroadcastOptions o;
  o.rootRank = root;
  for (const auto& t : tensors) {
    if (t.numel() == 0) continue;
    if (!t.is_contiguous()) throw Error("data parallel broadcast: tensors must be contiguous");
    on_backend(t, backend_, options_.device, [&](std::vector<at::Tensor>& one) {
      collective("broadcast", [&] { return group_->backend->broadcast(one, o); });
    });
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
