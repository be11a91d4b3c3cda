// data_parallel.h: one learner rank among world_size, over torch's c10d
// (a TCPStore rendezvous and a ProcessGroupGloo on CPU), with the torchrun
// environment conventions: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.
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

// Where this rank is and how to reach the others.
struct DataParallelOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";  // host of rank 0's TCPStore
  int master_port = 29500;
  int64_t bucket_bytes = 25 << 20;        // gradient all-reduce bucket (as torch DDP's 25 MiB)
  double timeout_s = 600;                 // of every collective and of the rendezvous

  // RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (torchrun's names); absent
  // variables keep the defaults above. Throws naming the variable when one is malformed.
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

  // The element-wise reduction of `values` over all ranks (same length on each).
  std::vector<double> all_reduce(const std::vector<double>& values, Reduce op);
  // Overwrites each rank's tensors (contiguous, CPU, same shapes on all ranks)
  // with the root's, in place.
  void broadcast(std::vector<torch::Tensor> tensors, int root = 0);
  void broadcast_parameters(const std::vector<torch::Tensor>& parameters);
  // Each tensor (contiguous, CPU) becomes its sum over all ranks, in place.
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
  std::unique_ptr<Group> group_;
  int64_t waited_ = 0;  // wait_posted() calls returned so far
};

}  // namespace grpo::learner
