// generation_broadcast.h: rank 0 hands each generation batch to the other
// learner ranks of a data-parallel run (`grpo train --nproc N`), which only
// compute: they loop on receive_generation() and train on what arrives.
//
//   rank 0:  send_generation(dp, batch); trainer.train_on_generation(batch); ...; send_stop(dp);
//   others:  while (auto batch = receive_generation(dp)) trainer.train_on_generation(*batch);
#pragma once

#include <optional>
#include <vector>

#include "learner/data_parallel.h"
#include "learner/sequence_batch.h"

namespace grpo::learner {

// Rank 0: the next batch to every other rank.
void send_generation(DataParallel& dp, const std::vector<TrainSequence>& batch);
// Rank 0: no more batches; receive_generation returns nullopt.
void send_stop(DataParallel& dp);
// Other ranks: rank 0's next batch, or nullopt once it stopped. Waits for it
// without a time limit (DataParallel::wait_posted).
std::optional<std::vector<TrainSequence>> receive_generation(DataParallel& dp);

}  // namespace grpo::learner
