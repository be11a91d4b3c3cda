// data_parallel.h: one learner rank among world_size, over torch's c10d
// (a TCPStore rendezvous; ProcessGroupGloo for a CPU model, ProcessGroupNCCL
// for a CUDA one), with the torchrun environment conventions: RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.
//
// Usage (every rank runs the same code):
//   auto dp = std::make_shared<DataParallel>(DataParallelOptions::from_env());
//   dp->broadcast_parameters(model->parameters());   // all ranks start from rank 0's weights
//   ... backward on this rank's share of the step ...
//   dp->average_gradients(model->parameters());      // bucketed all-reduce, divided by world_size
//
// Every collective blocks until all ranks call it, in the same order; a rank
// that dies makes the others fail after `timeout_s` with a grpo::Error
// (post/wait_posted let ranks > 0 wait for rank 0 without that limit).
// Not thread-safe: one DataParallel per rank (tests may run ranks as threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace grpo::learner {

// The c10d backend that carries the collectives.
enum class DpBackend { kGloo, kNccl };

// Whether this build can run ProcessGroupNCCL: a CUDA LibTorch 2.x with c10d
// NCCL (its CMake config defines USE_C10D_NCCL) and GRPO_WITH_CUDA.
bool nccl_built();

// Gloo for a model on the CPU, NCCL for one on a GPU. Throws naming
// model.device when the model is on CUDA and this build has no c10d NCCL.
DpBackend choose_backend(const torch::Device& device, bool have_nccl = nccl_built());

// The model.device of a rank: with world_size > 1, "cuda" becomes
// "cuda:<local_rank>" (one GPU per rank, as torchrun scripts do); "cpu" and
// a single rank keep the recipe's value. Throws naming model.device for an
// explicit "cuda:N" with world_size > 1 (every rank would share one GPU,
// which NCCL refuses).
std::string rank_model_device(const std::string& model_device, int local_rank, int world_size);

// Where this rank is and how to reach the others.
struct DataParallelOptions {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;                     // rank among this host's ranks (picks its GPU)
  torch::Device device = torch::kCPU;     // where the model lives: CPU -> Gloo, CUDA -> NCCL (choose_backend)
  std::string master_addr = "127.0.0.1";  // host of rank 0's TCPStore
  int master_port = 29500;
  int64_t bucket_bytes = 25 << 20;        // gradient all-reduce bucket (as torch DDP's 25 MiB)
  double timeout_s = 600;                 // of every collective and of the rendezvous

  // RANK, WORLD_SIZE, LOCAL_RANK (absent: RANK, one host), MASTER_ADDR,
  // MASTER_PORT (torchrun's names); absent variables keep the defaults
  // above. Throws naming the variable when one is malformed. `device` stays
  // the CPU: the caller sets it from the recipe (rank_model_device).
  static DataParallelOptions from_env();
};

// How all_reduce combines the ranks' values.
enum class Reduce { kSum, kMax, kMin };

// A process group of learner ranks.
class DataParallel {
 public:
  // Joins the group (blocks until all world_size ranks have joined).
  explicit DataParallel(const DataParallelOptions& options);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  bool is_primary() const { return options_.rank == 0; }
  DpBackend backend() const { return backend_; }
  const torch::Device& device() const { return options_.device; }

  // The element-wise reduction of `values` over all ranks (same length on each).
  std::vector<double> all_reduce(const std::vector<double>& values, Reduce op);
  // Overwrites each rank's tensors (contiguous, same shapes on all ranks)
  // with the root's, in place. With NCCL, CPU tensors travel through a copy
  // on options.device (a host synchronisation: headers and batches only).
  void broadcast(std::vector<torch::Tensor> tensors, int root = 0);
  void broadcast_parameters(const std::vector<torch::Tensor>& parameters);
  // Each tensor (contiguous; on the CPU for Gloo, anywhere for NCCL) becomes
  // its sum over all ranks, in place.
  void sum_in_place(const std::vector<torch::Tensor>& tensors);
  // grad <- (sum over ranks of grad) / world_size, flattened into buckets of
  // about bucket_bytes. A gradient undefined on this rank counts as zeros.
  void average_gradients(const std::vector<torch::Tensor>& parameters);

  // Rank 0: tells the others one more message follows (a counter in the
  // rendezvous store). Other ranks: wait_posted() waits, with no time limit,
  // until rank 0 has posted more often than this rank has waited, so a
  // collective that follows never times out while rank 0 spends long
  // between steps (rollout, rewards, evaluation). Throws when rank 0's store is gone.
  void post();
  void wait_posted();

 private:
  struct Group;
  DataParallelOptions options_;
  DpBackend backend_ = DpBackend::kGloo;
  std::unique_ptr<Group> group_;
  int64_t waited_ = 0;  // wait_posted() calls returned so far
};

}  // namespace grpo::learner
