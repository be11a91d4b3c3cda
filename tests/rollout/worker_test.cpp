// Rollout workers as real `grpo rollout-worker` processes talking to a
// WorkerPool over ZeroMQ: weight sync, late joiners, fuzzing, a worker killed
// mid-request, and CURVE keys.
#include "rollout/worker_pool.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "core/error.h"
#include "core/wire_message.h"
#include "policies/causal_lm.h"
#include "policies/placement.h"
#include "rollout/engine.h"
#include "rollout/from_config.h"
#include "rollout/messages.h"
#include "tests/rollout/worker_process.h"
#include "tests/support/test_env.h"

namespace grpo::rollout {
namespace {

using testing::TempDir;
using testing::WorkerProcess;

constexpr double kWait = 120.0;  // generous bound for a loaded 2-core machine; never reached when things work

policies::ModelConfig tiny_config() { return policies::ModelConfig::preset("qwen2", "tiny"); }

std::shared_ptr<policies::CausalLM> model_with_seed(uint64_t seed) {
  auto m = policies::CausalLM::create(tiny_config(), seed);
  m->eval();
  return m;
}

GroupRequest greedy_request(int64_t id) {
  GroupRequest r;
  r.id = id;
  r.prompt_ids = {3, 1, 4, 1, 5};
  r.n = 2;
  r.params.temperature = 0;
  r.params.max_new_tokens = 8;
  return r;
}

// What the engine gives locally for the same request and weights.
std::vector<int64_t> local_ids(uint64_t seed, const GroupRequest& r) {
  Engine e(model_with_seed(seed), {});
  return e.generate({r})[0].completions[0].ids;
}

WorkerPoolOptions pool_options(double heartbeat_timeout_s = 30.0) {
  WorkerPoolOptions o;
  o.bind = "tcp://127.0.0.1:*";
  o.model_config_json = tiny_config().to_json();
  o.heartbeat_timeout_s = heartbeat_timeout_s;
  o.chunk_bytes = 64 << 10;  // several chunks for the tiny model
  return o;
}

bool has_worker_at(const PoolSnapshot& s, const std::string& name, int64_t version) {
  for (const auto& w : s.workers)
    if (w.name == name && w.version == version) return true;
  return false;
}

const WorkerInfo* find_worker(const PoolSnapshot& s, const std::string& name) {
  for (const auto& w : s.workers)
    if (w.name == name) return &w;
  return nullptr;
}

TEST(WorkerTest, NewVersionIsSyncedAndLateJoinerGetsOnlyTheNewest) {
  TempDir dir;
  WorkerPool pool(pool_options());
  WorkerProcess a({"--connect", pool.endpoint(), "--name", "a", "--heartbeat-s", "0.1"}, dir.file("a.log"));
  pool.publish_weights(1, model_with_seed(1)->checkpoint_tensors());
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return has_worker_at(s, "a", 1); }, kWait)) << testing::read_file(dir.file("a.log"));
  pool.submit(greedy_request(10));
  auto r1 = pool.collect(1, kWait)[0];
  EXPECT_EQ(r1.id, 10);
  EXPECT_EQ(r1.weight_version, 1);
  EXPECT_EQ(r1.completions[0].ids, local_ids(1, greedy_request(10)));

  pool.publish_weights(2, model_with_seed(2)->checkpoint_tensors());
  pool.submit(greedy_request(11));  // dispatched with min_version 2: never answered with version 1
  auto r2 = pool.collect(1, kWait)[0];
  EXPECT_EQ(r2.weight_version, 2);
  EXPECT_EQ(r2.completions[0].ids, local_ids(2, greedy_request(11)));

  WorkerProcess b({"--connect", pool.endpoint(), "--name", "b", "--heartbeat-s", "0.1"}, dir.file("b.log"));
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return has_worker_at(s, "b", 2); }, kWait)) << testing::read_file(dir.file("b.log"));
  auto s = pool.snapshot();
  EXPECT_EQ(find_worker(s, "b")->applied_versions, std::vector<int64_t>{2});
  EXPECT_EQ(find_worker(s, "a")->applied_versions, (std::vector<int64_t>{1, 2}));
}

// What the engine gives locally for `r` with the weights of `seed` rounded to bf16.
Completion local_bf16_completion(uint64_t seed, const GroupRequest& r) {
  auto m = model_with_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.copy_(p.to(torch::kBFloat16));
  Engine e(m, {});
  return e.generate({r})[0].completions[0];
}

double max_gap(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double gap = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) gap = std::max(gap, std::abs(double(a[i]) - double(b[i])));
  return gap;
}

// rollout.weight_wire_dtype = bf16: the worker converts the bf16 wire back to
// its fp32 parameters and so samples from exactly the bf16-rounded weights.
TEST(WorkerTest, Bf16WireVersionLeavesTheWorkerWithTheRoundedWeights) {
  TempDir dir;
  WorkerPool pool(pool_options());
  WorkerProcess a({"--connect", pool.endpoint(), "--name", "a", "--heartbeat-s", "0.1"}, dir.file("a.log"));
  pool.publish_weights(1, published_tensors(*model_with_seed(1), /*bf16_on_wire=*/true));
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return has_worker_at(s, "a", 1); }, kWait)) << testing::read_file(dir.file("a.log"));
  pool.submit(greedy_request(20));
  Completion got = pool.collect(1, kWait)[0].completions[0];
  Completion rounded = local_bf16_completion(1, greedy_request(20));
  Engine full_precision(model_with_seed(1), {});
  Completion exact = full_precision.generate({greedy_request(20)})[0].completions[0];
  EXPECT_EQ(got.ids, rounded.ids);
  EXPECT_LT(max_gap(got.logprobs, rounded.logprobs), 1e-5);
  if (got.ids == exact.ids)  // otherwise the weights obviously differ from the fp32 ones
    EXPECT_GT(max_gap(got.logprobs, exact.logprobs), 1e-4) << "the worker holds the fp32 weights, not the bf16-rounded ones";
}

// Random multipart messages: garbage, mutations of valid messages, unknown
// types, an old protocol version and well-formed messages with bad fields.
std::vector<std::vector<std::string>> fuzz_messages(int count) {
  std::mt19937 rng(7);
  std::vector<std::vector<std::string>> out;
  auto valid = encode_message(WireMessage{msg::kGenerate, {{"request_id", 1}, {"min_version", 0}, {"request", msg::request_to_json(greedy_request(1))}}, {"x"}});
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> parts;
    switch (i % 6) {
      case 0: {
        int n = 1 + rng() % 3;
        for (int k = 0; k < n; ++k) {
          std::string f(rng() % 100, '\0');
          for (char& c : f) c = static_cast<char>(rng());
          parts.push_back(f);
        }
        break;
      }
      case 1:
        parts = valid;
        parts[rng() % parts.size()][0] ^= 0x5A;
        break;
      case 2: parts = encode_message(WireMessage{"teleport", {}, {}}); break;
      case 3: {
        parts = valid;
        auto h = nlohmann::json::parse(parts[0]);
        h["grpo"] = 0;
        parts[0] = h.dump();
        break;
      }
      case 4: parts = encode_message(WireMessage{msg::kWeightsChunk, {{"version", 99}, {"index", 0}, {"pieces", {{{"tensor", 0}, {"offset", 0}}}}}, {"zz"}}); break;
      default: parts = encode_message(WireMessage{msg::kGenerate, {{"request_id", "seven"}}, {}}); break;
    }
    out.push_back(parts);
  }
  return out;
}

TEST(WorkerTest, MalformedMessagesAreRejectedAndTheWorkerKeepsServing) {
  TempDir dir;
  WorkerPool pool(pool_options());
  WorkerProcess a({"--connect", pool.endpoint(), "--name", "a", "--heartbeat-s", "0.1"}, dir.file("a.log"));
  pool.publish_weights(1, model_with_seed(1)->checkpoint_tensors());
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return has_worker_at(s, "a", 1); }, kWait));
  constexpr int kFuzz = 600;
  for (const auto& parts : fuzz_messages(kFuzz)) pool.send_raw_to_workers(parts);
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { auto* w = find_worker(s, "a"); return w && w->rejected_by_worker >= kFuzz; }, kWait))
      << testing::read_file(dir.file("a.log")).substr(0, 3000);
  pool.submit(greedy_request(5));
  auto r = pool.collect(1, kWait)[0];
  EXPECT_EQ(r.completions[0].ids, local_ids(1, greedy_request(5)));
  EXPECT_NE(testing::read_file(dir.file("a.log")).find("rejected message"), std::string::npos);
}

TEST(WorkerTest, KilledWorkersRequestsAreRequeued) {
  TempDir dir;
  WorkerPool pool(pool_options(/*heartbeat_timeout_s=*/5.0));
  pool.publish_weights(1, model_with_seed(1)->checkpoint_tensors());
  // `stuck` takes requests and never answers, like a worker mid-generation.
  auto stuck = std::make_unique<WorkerProcess>(
      std::vector<std::string>{"--connect", pool.endpoint(), "--name", "stuck", "--heartbeat-s", "0.1", "--credits", "4", "--test-hold-requests"},
      dir.file("stuck.log"));
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return has_worker_at(s, "stuck", 1); }, kWait));
  for (int i = 0; i < 3; ++i) pool.submit(greedy_request(100 + i));
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { auto* w = find_worker(s, "stuck"); return w && w->outstanding == 3; }, kWait));
  stuck->kill_now();
  WorkerProcess healthy({"--connect", pool.endpoint(), "--name", "healthy", "--heartbeat-s", "0.1"}, dir.file("healthy.log"));
  auto results = pool.collect(3, kWait);
  std::vector<int64_t> ids;
  for (const auto& r : results) ids.push_back(r.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<int64_t>{100, 101, 102}));
  auto s = pool.snapshot();
  EXPECT_EQ(s.requeued, 3);
  EXPECT_EQ(s.dead_workers, 1);
  EXPECT_EQ(results[0].completions[0].ids, local_ids(1, greedy_request(100)));
}

TEST(WorkerTest, WrongCurveKeyIsRefused) {
  TempDir dir;
  CurveKeyPair server = generate_curve_keypair(), good = generate_curve_keypair(), bad = generate_curve_keypair();
  write_key_file(dir.file("server.key"), {server.public_key, ""});
  write_key_file(dir.file("good.key"), good);
  write_key_file(dir.file("bad.key"), bad);
  auto o = pool_options();
  o.server_keys = server;
  o.authorized_keys = {good.public_key};
  WorkerPool pool(o);
  pool.publish_weights(1, model_with_seed(1)->checkpoint_tensors());
  WorkerProcess intruder({"--connect", pool.endpoint(), "--name", "intruder", "--server-key", dir.file("server.key"), "--key", dir.file("bad.key")},
                         dir.file("intruder.log"));
  WorkerProcess member({"--connect", pool.endpoint(), "--name", "member", "--server-key", server.public_key, "--key", dir.file("good.key")},
                       dir.file("member.log"));
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return s.refused_connections >= 1 && has_worker_at(s, "member", 1); }, kWait))
      << testing::read_file(dir.file("member.log"));
  pool.submit(greedy_request(1));
  auto r = pool.collect(1, kWait)[0];
  EXPECT_EQ(r.completions[0].ids, local_ids(1, greedy_request(1)));
  auto s = pool.snapshot();
  ASSERT_EQ(s.workers.size(), 1u);
  EXPECT_EQ(s.workers[0].name, "member");
}

TEST(WorkerPoolTest, BindingBeyondLoopbackNeedsCurveKeys) {
  auto o = pool_options();
  o.bind = "tcp://0.0.0.0:*";
  EXPECT_THROW(WorkerPool pool(o), Error);
  EXPECT_TRUE(is_loopback_endpoint("ipc:///tmp/x"));
  EXPECT_TRUE(is_loopback_endpoint("tcp://127.0.0.1:5555"));
  EXPECT_FALSE(is_loopback_endpoint("tcp://10.1.2.3:5555"));
}

// The setup carries rollout.device / rollout.dtype / rollout.decode: a worker
// told bfloat16 and static decode answers like a local engine so placed.
TEST(WorkerTest, WorkerPlacesItsModelAsTheSetupSays) {
  TempDir dir;
  auto o = pool_options();
  o.device = "cpu";
  o.dtype = "bfloat16";
  o.engine.decode = DecodeMode::kStatic;
  WorkerPool pool(o);
  WorkerProcess a({"--connect", pool.endpoint(), "--name", "a", "--heartbeat-s", "0.1"}, dir.file("a.log"));
  pool.publish_weights(1, model_with_seed(1)->checkpoint_tensors());  // fp32 on the wire, bf16 in the worker
  pool.submit(greedy_request(40));
  Completion got = pool.collect(1, kWait)[0].completions[0];
  auto local = model_with_seed(1);
  policies::place_model(*local, torch::kCPU, torch::kBFloat16);
  EngineOptions static_decode;
  static_decode.decode = DecodeMode::kStatic;
  Completion want = Engine(local, static_decode).generate({greedy_request(40)})[0].completions[0];
  EXPECT_EQ(got.ids, want.ids);
  EXPECT_LT(max_gap(got.logprobs, want.logprobs), 1e-6);
  EXPECT_NE(testing::read_file(dir.file("a.log")).find("on cpu in bfloat16, static decode"), std::string::npos) << testing::read_file(dir.file("a.log"));
}

TEST(WorkerPoolTest, RolloutDeviceIsResolvedAndCheckedBeforeAnyWorkerStarts) {
  RolloutConfig c;
  policies::ModelSpec model;
  model.init_arch = "qwen2";
  model.dtype = "bfloat16";
  c.decode = "static";
  WorkerPoolOptions o = pool_options_from(c, model, "{}", "");
  EXPECT_EQ(o.device, "cpu");        // "model" = model.device
  EXPECT_EQ(o.dtype, "bfloat16");    // "model" = model.dtype
  EXPECT_EQ(o.engine.decode, DecodeMode::kStatic);
  EXPECT_FALSE(o.shared_weights);
  c.device = "cuda:64";  // past the last device of any machine here (or no CUDA at all)
  try {
    pool_options_from(c, model, "{}", "");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "rollout.device") << e.what();
  }
}

// A worker that cannot build the model (here: a GPU no machine has) says so;
// the pool gives it no requests and shows why.
TEST(WorkerPoolTest, WorkerThatCannotBuildTheModelGetsNoRequests) {
  TempDir dir;
  auto o = pool_options();
  o.device = "cuda:64";
  WorkerPool pool(o);
  WorkerProcess a({"--connect", pool.endpoint(), "--name", "a", "--heartbeat-s", "0.1"}, dir.file("a.log"));
  pool.publish_weights(1, model_with_seed(1)->checkpoint_tensors());
  pool.submit(greedy_request(60));
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { auto* w = find_worker(s, "a"); return w && !w->setup_error.empty(); }, kWait))
      << testing::read_file(dir.file("a.log"));
  auto s = pool.snapshot();
  EXPECT_NE(find_worker(s, "a")->setup_error.find("rollout.device"), std::string::npos) << find_worker(s, "a")->setup_error;
  EXPECT_EQ(find_worker(s, "a")->outstanding, 0);
  EXPECT_EQ(s.queued, 1);
}

// rollout.weight_sync = shared: a worker on this machine receives every
// version through the staging buffer (POSIX shared memory here, no chunks);
// one that says it is on another machine gets chunks made from the buffer.
// Both answer with the learner's weights of the newest version.
TEST(WorkerSharedWeights, LocalWorkerReadsTheBufferAndARemoteOneGetsChunks) {
  TempDir dir;
  auto o = pool_options(/*heartbeat_timeout_s=*/5.0);
  o.shared_weights = true;
  WorkerPool pool(o);
  auto local = std::make_unique<WorkerProcess>(std::vector<std::string>{"--connect", pool.endpoint(), "--name", "local", "--heartbeat-s", "0.1"},
                                               dir.file("local.log"));
  pool.publish_weights(1, model_with_seed(1)->checkpoint_tensors());
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return has_worker_at(s, "local", 1); }, kWait)) << testing::read_file(dir.file("local.log"));
  pool.submit(greedy_request(30));
  auto r1 = pool.collect(1, kWait)[0];
  EXPECT_EQ(r1.weight_version, 1);
  EXPECT_EQ(r1.completions[0].ids, local_ids(1, greedy_request(30)));
  pool.publish_weights(2, model_with_seed(2)->checkpoint_tensors());
  pool.submit(greedy_request(31));
  auto r2 = pool.collect(1, kWait)[0];
  EXPECT_EQ(r2.weight_version, 2);
  EXPECT_EQ(r2.completions[0].ids, local_ids(2, greedy_request(31)));

  WorkerProcess remote({"--connect", pool.endpoint(), "--name", "remote", "--heartbeat-s", "0.1", "--test-host", "elsewhere"},
                       dir.file("remote.log"));
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& s) { return has_worker_at(s, "remote", 2); }, kWait)) << testing::read_file(dir.file("remote.log"));
  auto s = pool.snapshot();
  const WorkerInfo* l = find_worker(s, "local");
  const WorkerInfo* r = find_worker(s, "remote");
  ASSERT_TRUE(l && r);
  EXPECT_TRUE(l->shared_weights);
  EXPECT_EQ(l->versions_shared, 2);
  EXPECT_EQ(l->versions_chunked, 0);
  EXPECT_EQ(l->applied_versions, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(r->shared_weights);
  EXPECT_EQ(r->versions_shared, 0);
  EXPECT_EQ(r->versions_chunked, 1);
  EXPECT_EQ(r->applied_versions, std::vector<int64_t>{2});
  // Only the remote one is left to answer: its chunks came from the buffer's version 2.
  local->kill_now();
  ASSERT_TRUE(pool.wait_for([](const PoolSnapshot& snap) { return snap.workers.size() == 1; }, kWait));
  pool.submit(greedy_request(32));
  auto r3 = pool.collect(1, kWait)[0];
  EXPECT_EQ(r3.weight_version, 2);
  EXPECT_EQ(r3.completions[0].ids, local_ids(2, greedy_request(32)));
}

// A `grpo rollout-worker` on cuda:0 gets versions 1 and 2 of CUDA learner
// tensors and answers each request like the learner's own eager engine.
void expect_gpu_worker_follows_the_learner(bool shared_weights, DecodeMode decode, double logprob_tol) {
  TempDir dir;
  auto o = pool_options();
  o.shared_weights = shared_weights;
  o.device = "cuda:0";
  o.engine.decode = decode;
  WorkerPool pool(o);
  WorkerProcess a({"--connect", pool.endpoint(), "--name", "a", "--heartbeat-s", "0.1"}, dir.file("a.log"));
  torch::Device cuda(torch::kCUDA, 0);
  for (int64_t version = 1; version <= 2; ++version) {
    auto learner = model_with_seed(static_cast<uint64_t>(version));
    policies::place_model(*learner, cuda, torch::kFloat32);
    pool.publish_weights(version, learner->checkpoint_tensors());
    pool.submit(greedy_request(50 + version));
    auto r = pool.collect(1, kWait)[0];
    EXPECT_EQ(r.weight_version, version);
    Completion want = Engine(learner, {}).generate({greedy_request(50 + version)})[0].completions[0];
    EXPECT_EQ(r.completions[0].ids, want.ids) << testing::read_file(dir.file("a.log"));
    EXPECT_LT(max_gap(r.completions[0].logprobs, want.logprobs), logprob_tol);
  }
  auto s = pool.snapshot();
  ASSERT_EQ(s.workers.size(), 1u);
  EXPECT_EQ(s.workers[0].versions_shared, shared_weights ? 2 : 0);
  EXPECT_EQ(s.workers[0].versions_chunked, shared_weights ? 0 : 2);
}

// The learner's CUDA tensors go into a device buffer that the worker maps through CUDA IPC.
TEST(WorkerSharedWeightsCuda, VersionsReachAGpuWorkerThroughCudaIpc) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  expect_gpu_worker_follows_the_learner(/*shared_weights=*/true, DecodeMode::kEager, 1e-5);
}

// A worker replaying CUDA graphs keeps them across requests (one engine):
// version 2, copied into the parameters, must be what the kept graphs compute.
TEST(WorkerCudaGraphs, KeptGraphsComputeWithEachNewVersion) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  expect_gpu_worker_follows_the_learner(/*shared_weights=*/false, DecodeMode::kCudaGraphs, 1e-3);
}

}  // namespace
}  // namespace grpo::rollout
