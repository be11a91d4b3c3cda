// generation_broadcast.cpp: see generation_broadcast.h. A batch travels as a
// header broadcast (command, sizes) then four flat tensors.
#include "learner/generation_broadcast.h"

#include "core/error.h"

namespace grpo::learner {
namespace {

enum Command : int64_t { kStop = 0, kTrain = 1 };

// [command, sequences, tokens, rollout log-probs]
torch::Tensor header(int64_t command, int64_t sequences, int64_t tokens, int64_t logprobs) {
  return torch::tensor({command, sequences, tokens, logprobs}, torch::kLong);
}

}  // namespace

void send_generation(DataParallel& dp, const std::vector<TrainSequence>& batch) {
  if (!dp.is_primary()) throw Error("send_generation: only rank 0 sends generation batches");
  if (dp.world_size() <= 1) return;
  std::vector<int64_t> tokens, shape;  // shape: per sequence [length, prompt_len, truncated, has_logprobs]
  std::vector<double> advantages;
  std::vector<float> logprobs;
  for (const auto& s : batch) {
    tokens.insert(tokens.end(), s.tokens.begin(), s.tokens.end());
    shape.insert(shape.end(), {static_cast<int64_t>(s.tokens.size()), s.prompt_len, s.truncated ? 1 : 0,
                               static_cast<int64_t>(s.rollout_logprobs.size())});
    advantages.push_back(s.advantage);
    logprobs.insert(logprobs.end(), s.rollout_logprobs.begin(), s.rollout_logprobs.end());
  }
  dp.post();
  dp.broadcast({header(kTrain, static_cast<int64_t>(batch.size()), static_cast<int64_t>(tokens.size()),
                       static_cast<int64_t>(logprobs.size()))});
  dp.broadcast({torch::tensor(tokens, torch::kLong), torch::tensor(shape, torch::kLong),
                torch::tensor(advantages, torch::kDouble), torch::tensor(logprobs, torch::kFloat)});
}

void send_stop(DataParallel& dp) {
  if (dp.world_size() <= 1) return;
  dp.post();
  dp.broadcast({header(kStop, 0, 0, 0)});
}

std::optional<std::vector<TrainSequence>> receive_generation(DataParallel& dp) {
  torch::Tensor h = header(kStop, 0, 0, 0);
  dp.wait_posted();  // rank 0 may take longer than a collective's timeout to produce it
  dp.broadcast({h});
  const int64_t* hv = h.data_ptr<int64_t>();
  if (hv[0] == kStop) return std::nullopt;
  const int64_t n = hv[1];
  torch::Tensor tokens = torch::empty({hv[2]}, torch::kLong), shape = torch::empty({n * 4}, torch::kLong),
                adv = torch::empty({n}, torch::kDouble), lp = torch::empty({hv[3]}, torch::kFloat);
  dp.broadcast({tokens, shape, adv, lp});
  std::vector<TrainSequence> batch(static_cast<size_t>(n));
  const int64_t* tv = tokens.data_ptr<int64_t>();
  const int64_t* sv = shape.data_ptr<int64_t>();
  const float* lv = lp.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    TrainSequence& s = batch[static_cast<size_t>(i)];
    s.tokens.assign(tv, tv + sv[4 * i]);
    tv += sv[4 * i];
    s.prompt_len = sv[4 * i + 1];
    s.truncated = sv[4 * i + 2] != 0;
    s.rollout_logprobs.assign(lv, lv + sv[4 * i + 3]);
    lv += sv[4 * i + 3];
    s.advantage = adv[i].item<double>();
  }
  return batch;
}

}  // namespace grpo::learner
