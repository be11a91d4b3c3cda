// decode_graph.cpp: see decode_graph.h. The CUDA graph code is the
// GRPO_WITH_CUDA part of Bucket and capture(); the rest is the CPU twin.
#include "rollout/decode_graph.h"

#include <algorithm>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/kv_cache.h"
#include "policies/model_layers.h"
#include "policies/moe_dispatch.h"

#if defined(GRPO_WITH_CUDA)
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace grpo::rollout {

std::vector<int64_t> decode_buckets(int64_t max_slots) {
  if (max_slots < 1) throw Error("decode_buckets: max_slots must be >= 1, got " + std::to_string(max_slots));
  std::vector<int64_t> out;
  for (int64_t b = 1; b < max_slots; b *= 2) out.push_back(b);
  out.push_back(max_slots);
  return out;
}

int64_t bucket_for(const std::vector<int64_t>& buckets, int64_t highest_slot) {
  for (int64_t b : buckets)
    if (highest_slot < b) return b;
  throw Error("bucket_for: slot " + std::to_string(highest_slot) + " is past the largest decode bucket (" +
              (buckets.empty() ? std::string("none") : std::to_string(buckets.back())) + ")");
}

// One bucket's fixed input buffers, its output and (CUDA) its graph.
struct StaticDecoder::Bucket {
  policies::StaticDecodeInputs in;
  torch::Tensor logits;  // [size, V]: written by each step (or graph replay)
#if defined(GRPO_WITH_CUDA)
  std::unique_ptr<at::cuda::CUDAGraph> graph;
#endif
};

namespace {

// Why `model` cannot be captured, or "" when it can.
std::string not_capturable(policies::CausalLM& model) {
#if !defined(GRPO_WITH_CUDA)
  return "this build has no CUDA (GRPO_CUDA)";
#else
  const torch::Tensor w = model.parameters().front();
  if (!w.is_cuda()) return "the model is on " + w.device().str() + ", not a CUDA device";
  const auto& c = model.config();
  for (const auto& m : model.modules()) {
    auto moe = std::dynamic_pointer_cast<policies::detail::MoEImpl>(m);
    if (moe && policies::detail::resolve_moe_dispatch(moe->dispatch, true, w.scalar_type(),
                                                      policies::detail::cuda_compute_major(w.device()), c.hidden_size,
                                                      c.moe_intermediate_size) != policies::detail::MoeDispatch::kGrouped)
      return "its MoE layers run the host loop here (grouped only for bf16 on sm90/sm100, policies/moe_dispatch.h), "
             "which synchronises and cannot be captured";
  }
  return "";
#endif
}

}  // namespace

StaticDecoder::StaticDecoder(policies::CausalLM& model, policies::KvCache& cache, bool cuda_graphs)
    : model_(model), cache_(cache), cuda_graphs_(cuda_graphs), buckets_(decode_buckets(cache.max_slots())) {
  if (cuda_graphs)
    if (std::string why = not_capturable(model); !why.empty())
      throw Error("decode with CUDA graphs (rollout decode mode cuda_graphs): " + why + "; use the eager decode");
}

StaticDecoder::~StaticDecoder() = default;

StaticDecoder::Bucket& StaticDecoder::bucket(int64_t size) {
  std::unique_ptr<Bucket>& b = by_size_[size];
  if (!b) {
    b = std::make_unique<Bucket>();
    b->in = model_.static_decode_inputs(size);
  }
  return *b;
}

torch::Tensor StaticDecoder::step(const std::vector<int64_t>& slots, const std::vector<int64_t>& tokens,
                                  const std::vector<int64_t>& positions) {
  const int64_t n = static_cast<int64_t>(slots.size());
  if (n == 0 || tokens.size() != slots.size() || positions.size() != slots.size())
    throw Error("StaticDecoder::step: needs one token and position per slot, and at least one slot");
  cache_.check_capacity(slots, 1);
  Bucket& b = bucket(bucket_for(buckets_, *std::max_element(slots.begin(), slots.end())));
  const int64_t size = b.in.tokens.size(0), last = cache_.max_len() - 1;
  // Idle rows: token 0 at the slot's length (clamped), past its valid entries.
  std::vector<int64_t> tok(static_cast<size_t>(size), 0), pos(static_cast<size_t>(size), 0), start(static_cast<size_t>(size));
  for (int64_t s = 0; s < size; ++s) start[static_cast<size_t>(s)] = std::min(cache_.length(s), last);
  for (int64_t i = 0; i < n; ++i) {
    const auto s = static_cast<size_t>(slots[static_cast<size_t>(i)]);
    tok[s] = tokens[static_cast<size_t>(i)];
    pos[s] = positions[static_cast<size_t>(i)];
    start[s] = cache_.length(static_cast<int64_t>(s));
  }
  b.in.tokens.copy_(torch::tensor(tok, torch::kLong).view({size, 1}));
  b.in.positions.copy_(torch::tensor(pos, torch::kLong).view({size, 1}));
  b.in.starts.copy_(torch::tensor(start, torch::kLong));
  if (!cuda_graphs_) {
    b.logits = model_.static_decode_logits(b.in, cache_);
  } else {
#if defined(GRPO_WITH_CUDA)
    if (!b.graph) {
      // Warm-up (cuBLAS workspaces, allocator) and capture on a side stream;
      // they write this step's keys and values, which the replay rewrites
      // with the same values.
      const c10::DeviceIndex dev = b.in.tokens.device().index();
      c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(dev);
      c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, dev);
      at::cuda::CUDAEvent ready, done;
      ready.record(current);
      ready.block(side);
      {
        c10::cuda::CUDAStreamGuard on_side(side);
        for (int i = 0; i < 2; ++i) b.logits = model_.static_decode_logits(b.in, cache_);
        b.graph = std::make_unique<at::cuda::CUDAGraph>();
        b.graph->capture_begin();
        b.logits = model_.static_decode_logits(b.in, cache_);
        b.graph->capture_end();
      }
      done.record(side);
      done.block(current);
      ++graphs_captured_;
    }
    b.graph->replay();
#endif
  }
  torch::Tensor rows = torch::tensor(slots, torch::kLong).to(b.logits.device());
  torch::Tensor out = b.logits.index_select(0, rows);  // a copy: the next replay overwrites b.logits
  cache_.advance(slots, std::vector<int64_t>(static_cast<size_t>(n), 1));
  return out;
}

}  // namespace grpo::rollout
