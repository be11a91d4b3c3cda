// local_ranks.h: `grpo train --nproc N` starts the learner ranks 1..N-1 as
// copies of this process (same command line) with torchrun's environment
// (RANK, LOCAL_RANK = RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT);
// this process is rank 0.
//
//   LocalRanks ranks(4);          // sets this process's RANK=0, WORLD_SIZE=4, ...
//   ... train as rank 0 ...
//   ranks.wait();                 // after rank 0 sent the stop; throws if a rank failed
//
// The children die with this process (PR_SET_PDEATHSIG); destroying a
// LocalRanks that was not waited for kills them.
#pragma once

#include <sys/types.h>

#include <vector>

namespace grpo::train {

// The extra local learner processes of a data-parallel run.
class LocalRanks {
 public:
  explicit LocalRanks(int nproc);
  ~LocalRanks();
  LocalRanks(const LocalRanks&) = delete;
  LocalRanks& operator=(const LocalRanks&) = delete;

  // Waits for every rank to exit; throws grpo::Error naming a rank that failed.
  void wait();

 private:
  std::vector<pid_t> pids_;
};

}  // namespace grpo::train
