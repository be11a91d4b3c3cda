#include "rollout/engine.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <deque>
#include <set>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/kv_cache.h"
#include "rollout/decode_graph.h"
#include "rollout/sampler.h"

namespace grpo::rollout {

namespace {

// Per group of one generate call: where its prompt prefix lives, and how many
// of its completions have started.
struct GroupState {
  const GroupRequest* request = nullptr;
  int64_t prefix_slot = -1;   // slot holding the prefilled prompt, -1 before prefill
  bool prefix_pinned = false; // prefix slot's own sequence ended, kept for forks
  torch::Tensor last_logits;  // [V] logits after the prompt
  int started = 0;
  int finished = 0;
  std::vector<Completion> completions;
};

// A completion given a slot in this round of fill_free_slots.
struct Start {
  int group = 0;
  int index = 0;
  int64_t slot = 0;
};

// Most prompt tokens (padded rows x longest prompt) per batched prefill forward.
constexpr int64_t kPrefillTokens = 4096;

// One live completion in a cache slot.
struct Sequence {
  int group = 0;
  int index = 0;
  int64_t slot = 0;
  uint64_t seed = 0;
  std::vector<int64_t> ids;
  std::vector<float> logprobs;
  std::unique_ptr<StopCriteria> stop;
};

// One generate call: slots, queue, and the decode loop (see engine.h).
class GenerationRun {
 public:
  GenerationRun(policies::CausalLM& model, policies::KvCache& cache, const std::vector<GroupRequest>& requests,
                const DecodeFn& decode, const GenerateHooks& hooks, EngineStats& stats, int64_t weight_version,
                StaticDecoder* static_decoder)
      : model_(model), cache_(cache), decode_(decode), on_progress_(hooks.on_progress), stats_(stats),
        on_group_done_(hooks.on_group_done), weight_version_(weight_version), static_decoder_(static_decoder) {
    device_ = model_.parameters().front().device();
    groups_.resize(requests.size());
    for (size_t g = 0; g < requests.size(); ++g) {
      groups_[g].request = &requests[g];
      groups_[g].completions.resize(requests[g].n);
      for (int j = 0; j < requests[g].n; ++j) pending_.push_back({static_cast<int>(g), j});
    }
    for (int64_t s = 0; s < cache_.max_slots(); ++s) free_slots_.insert(s);
    used_.assign(cache_.max_slots(), false);
  }

  std::vector<std::vector<Completion>> run() {
    fill_free_slots();
    while (!active_.empty()) {
      decode_step();
      fill_free_slots();
    }
    std::vector<std::vector<Completion>> out;
    for (GroupState& g : groups_) out.push_back(std::move(g.completions));
    return out;
  }

 private:
  // Gives every free slot the next waiting completion. The groups that start
  // in one round are prefilled together (prefill_groups), then each completion
  // takes its group's prefix; finishing at the first token may free slots for
  // another round.
  void fill_free_slots() {
    while (!free_slots_.empty() && !pending_.empty()) {
      std::vector<Start> round;
      while (!free_slots_.empty() && !pending_.empty()) {
        auto [g, j] = pending_.front();
        pending_.pop_front();
        int64_t slot = *free_slots_.begin();  // lowest first: active slots stay packed, the cache is read in place
        free_slots_.erase(free_slots_.begin());
        if (used_[slot]) stats_.slot_refills++;
        used_[slot] = true;
        round.push_back({g, j, slot});
      }
      prefill_groups(round);
      for (const Start& s : round) start(s.group, s.index, s.slot);
    }
  }

  // Puts completion j of group g in `slot`: its group's prefilled slot, or a
  // fork of that prefix, then its first token from the prompt logits.
  void start(int g, int j, int64_t slot) {
    GroupState& group = groups_[g];
    const GroupRequest& req = *group.request;
    int64_t prompt_len = static_cast<int64_t>(req.prompt_ids.size());
    if (group.prefix_slot != slot) {
      cache_.reset_slot(slot);
      cache_.copy_slot(group.prefix_slot, slot, prompt_len);
      stats_.prefix_forks++;
    }
    auto seq = std::make_unique<Sequence>();
    seq->group = g;
    seq->index = j;
    seq->slot = slot;
    seq->seed = sequence_seed(req.params.seed, j);
    seq->stop = std::make_unique<StopCriteria>(req.params, decode_);
    group.started++;
    auto first = sample_tokens(group.last_logits.unsqueeze(0), {row_sampling(req.params, seq->seed, 0)});
    if (group.started == req.n && group.prefix_pinned) release(group.prefix_slot);
    if (!accept(*seq, first.tokens[0].item<int64_t>(), first.logprobs[0].item<float>())) active_.push_back(std::move(seq));
  }

  // Prefills the prompt of every group of `round` not yet prefilled, once per
  // group, into the slot of its first completion: right-padded batches of at
  // most kPrefillTokens tokens, keeping only the last position's logits.
  void prefill_groups(const std::vector<Start>& round) {
    std::vector<Start> todo;
    for (const Start& s : round) {
      GroupState& group = groups_[s.group];
      if (group.prefix_slot >= 0) continue;
      group.prefix_slot = s.slot;  // also marks the group as taken for the rest of the round
      todo.push_back(s);
    }
    for (size_t begin = 0; begin < todo.size();) {
      size_t end = begin;
      int64_t longest = 0;
      while (end < todo.size()) {
        int64_t p = static_cast<int64_t>(groups_[todo[end].group].request->prompt_ids.size());
        if (end > begin && std::max(longest, p) * static_cast<int64_t>(end - begin + 1) > kPrefillTokens) break;
        longest = std::max(longest, p);
        ++end;
      }
      prefill(std::vector<Start>(todo.begin() + static_cast<std::ptrdiff_t>(begin), todo.begin() + static_cast<std::ptrdiff_t>(end)), longest);
      begin = end;
    }
  }

  void prefill(const std::vector<Start>& batch, int64_t longest) {
    const int64_t n = static_cast<int64_t>(batch.size());
    auto tokens = torch::zeros({n, longest}, torch::kInt64);
    auto mask = torch::zeros({n, longest}, torch::kInt64);
    std::vector<int64_t> slots;
    bool ragged = false;
    for (int64_t i = 0; i < n; ++i) {
      const auto& ids = groups_[batch[i].group].request->prompt_ids;
      int64_t p = static_cast<int64_t>(ids.size());
      tokens[i].narrow(0, 0, p).copy_(torch::tensor(ids, torch::kInt64));
      mask[i].narrow(0, 0, p).fill_(1);
      ragged = ragged || p != longest;
      slots.push_back(batch[i].slot);
      cache_.reset_slot(batch[i].slot);
      stats_.prefills++;
      stats_.prefill_tokens += p;
    }
    stats_.prefill_forwards++;
    auto positions = torch::arange(longest, torch::kInt64).unsqueeze(0).expand({n, longest}).to(device_);
    auto logits = model_.last_logits(tokens.to(device_), positions, &cache_, ragged ? mask.to(device_) : torch::Tensor(), slots);
    for (int64_t i = 0; i < n; ++i) groups_[batch[i].group].last_logits = logits[i].clone();  // [V]
  }

  // One batched forward over every active sequence's newest token.
  void decode_step() {
    // Rows in slot order: a packed set of slots is read from the cache as a view.
    std::sort(active_.begin(), active_.end(), [](const auto& x, const auto& y) { return x->slot < y->slot; });
    int64_t b = static_cast<int64_t>(active_.size());
    std::vector<int64_t> tokens(b), positions(b), slots(b);
    std::vector<RowSampling> rows(b);
    for (int64_t i = 0; i < b; ++i) {
      const Sequence& s = *active_[i];
      tokens[i] = s.ids.back();
      slots[i] = s.slot;
      positions[i] = cache_.length(s.slot);
      rows[i] = row_sampling(groups_[s.group].request->params, s.seed, static_cast<int64_t>(s.ids.size()));
    }
    // Profiler scopes (bench/rollout/profile_summary.py); free when no profiler runs.
    torch::Tensor logits;  // [B, V]
    {
      RECORD_FUNCTION("grpo::decode_forward", std::vector<c10::IValue>());
      if (static_decoder_) {
        logits = static_decoder_->step(slots, tokens, positions);
      } else {
        auto t = torch::tensor(tokens, torch::kInt64).unsqueeze(1).to(device_);     // [B, 1]
        auto pos = torch::tensor(positions, torch::kInt64).unsqueeze(1).to(device_);  // [B, 1]
        logits = model_.forward(t, pos, &cache_, {}, slots).select(1, 0);
      }
    }
    SampledTokens sampled;
    {
      RECORD_FUNCTION("grpo::sample_tokens", std::vector<c10::IValue>());
      sampled = sample_tokens(logits, rows);
    }
    stats_.decode_steps++;
    stats_.decode_tokens += b;
    stats_.max_active = std::max(stats_.max_active, b);
    auto tok = sampled.tokens.accessor<int64_t, 1>();
    auto lp = sampled.logprobs.accessor<float, 1>();
    std::vector<std::unique_ptr<Sequence>> still;
    for (int64_t i = 0; i < b; ++i)
      if (!accept(*active_[i], tok[i], lp[i])) still.push_back(std::move(active_[i]));
    active_ = std::move(still);
  }

  // Appends a token; when the sequence ends, records its completion, frees
  // its slot and returns true.
  bool accept(Sequence& s, int64_t token, float logprob) {
    s.ids.push_back(token);
    s.logprobs.push_back(logprob);
    auto reason = s.stop->check(s.ids);
    if (!reason) {
      if (on_progress_) on_progress_({static_cast<size_t>(s.group), s.index, token, nullptr});
      return false;
    }
    CutCompletion cut = s.stop->finish(std::move(s.ids), std::move(s.logprobs), *reason);
    GroupState& group = groups_[s.group];
    group.completions[s.index] = Completion{std::move(cut.ids), std::move(cut.logprobs), std::move(cut.text), cut.finish_reason};
    if (on_progress_) on_progress_({static_cast<size_t>(s.group), s.index, -1, &group.completions[s.index]});
    if (s.slot == group.prefix_slot && group.started < group.request->n)
      group.prefix_pinned = true;  // its prompt prefix still has forks to serve
    else
      release(s.slot);
    if (++group.finished == group.request->n && on_group_done_)
      on_group_done_(static_cast<size_t>(s.group), GroupResult{group.request->id, group.completions, weight_version_});
    return true;
  }

  void release(int64_t slot) { free_slots_.insert(slot); }

  policies::CausalLM& model_;
  policies::KvCache& cache_;
  const DecodeFn& decode_;
  const ProgressFn& on_progress_;
  EngineStats& stats_;
  const GroupDoneFn& on_group_done_;
  int64_t weight_version_;
  torch::Device device_ = torch::kCPU;
  std::vector<GroupState> groups_;
  std::deque<std::pair<int, int>> pending_;  // (group, completion index) in request order
  std::set<int64_t> free_slots_;
  std::vector<bool> used_;
  std::vector<std::unique_ptr<Sequence>> active_;
  StaticDecoder* static_decoder_;  // null: eager decode (EngineOptions::decode)
};

void validate_request(const GroupRequest& r) {
  if (r.prompt_ids.empty()) throw Error("group request " + std::to_string(r.id) + ": empty prompt");
  if (r.n < 1) throw Error("group request " + std::to_string(r.id) + ": n must be >= 1, got " + std::to_string(r.n));
  r.params.validate();
}

}  // namespace

Engine::Engine(std::shared_ptr<policies::CausalLM> model, EngineOptions options, DecodeFn decode)
    : model_(std::move(model)), options_(options), decode_(std::move(decode)) {
  if (!model_) throw Error("Engine: no model");
  if (options_.max_slots < 1) throw Error("Engine: max_slots must be >= 1, got " + std::to_string(options_.max_slots));
}

// The KV cache and, in the static modes, its decoder (and CUDA graphs), kept
// for the next generate call.
struct Engine::DecodeState {
  std::unique_ptr<policies::KvCache> cache;
  std::unique_ptr<StaticDecoder> decoder;  // null: eager
};

Engine::~Engine() = default;

std::vector<GroupResult> Engine::generate(const std::vector<GroupRequest>& requests, const GenerateHooks& hooks) {
  if (requests.empty()) return {};
  int64_t max_len = 0, completions = 0;
  for (const GroupRequest& r : requests) {
    validate_request(r);
    max_len = std::max<int64_t>(max_len, static_cast<int64_t>(r.prompt_ids.size()) + r.params.max_new_tokens);
    completions += r.n;
  }
  int64_t slots = std::min({options_.max_slots, options_.kv_budget_tokens / max_len, completions});
  if (slots < 1)
    throw Error("kv_budget_tokens " + std::to_string(options_.kv_budget_tokens) + " cannot hold one sequence of " +
                std::to_string(max_len) + " tokens (prompt + max_new_tokens); raise rollout.kv_budget_tokens");
  torch::NoGradGuard no_grad;
  model_->eval();
  model_->set_onednn_linear(options_.onednn_min_weight_elements);
  auto param = model_->parameters().front();
  // Static modes keep the previous call's cache, and so its decoder and CUDA
  // graphs, when it has the same slots and room for this call's lengths (the
  // graphs read the weights in place, so versions copied in meanwhile are
  // seen); a longer request allocates anew. Eager decode allocates per call.
  const policies::KvCache* kept = kept_ ? kept_->cache.get() : nullptr;
  bool reuse = options_.decode != DecodeMode::kEager && kept && kept->max_slots() == slots && kept->max_len() >= max_len &&
               kept_->cache->a(0).device() == param.device() && kept_->cache->a(0).scalar_type() == param.scalar_type();
  if (reuse) {
    kept_->cache->reset_all();
    stats_.cache_reuses++;
  } else {
    kept_.reset();  // the old graphs hold the old cache: free both before allocating
    kept_ = std::make_unique<DecodeState>();
    kept_->cache = std::make_unique<policies::KvCache>(model_->config(), slots, max_len, param.device(), param.scalar_type());
    if (options_.decode != DecodeMode::kEager)
      kept_->decoder = std::make_unique<StaticDecoder>(*model_, *kept_->cache, options_.decode == DecodeMode::kCudaGraphs);
  }
  std::unique_ptr<DecodeState> eager_state;  // eager: this call's cache only
  if (options_.decode == DecodeMode::kEager) eager_state = std::move(kept_);
  DecodeState& state = eager_state ? *eager_state : *kept_;
  stats_.cache_slots = slots;
  stats_.cache_max_len = state.cache->max_len();
  int64_t graphs_before = state.decoder ? state.decoder->graphs_captured() : 0;
  GenerationRun run(*model_, *state.cache, requests, decode_, hooks, stats_, weight_version_, state.decoder.get());
  auto completions_by_group = run.run();
  if (state.decoder) stats_.decode_graphs += state.decoder->graphs_captured() - graphs_before;
  std::vector<GroupResult> out(requests.size());
  for (size_t g = 0; g < requests.size(); ++g) {
    out[g].id = requests[g].id;
    out[g].completions = std::move(completions_by_group[g]);
    out[g].weight_version = weight_version_;
  }
  return out;
}

}  // namespace grpo::rollout
