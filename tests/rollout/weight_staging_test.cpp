// The shared weight staging buffer (rollout/weight_staging.h) on the CPU
// (POSIX shared memory), in one process: versions read back exactly, a
// version being overwritten is never returned, and under a writer racing a
// reader every accepted copy is one whole version. Real worker processes
// reading it: worker_test.cpp (WorkerSharedWeights*).
#include "rollout/weight_staging.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <thread>

#include "core/error.h"
#include "policies/causal_lm.h"

namespace grpo::rollout {
namespace {

NamedTensors staging_test_weights(uint64_t seed) {
  auto m = policies::CausalLM::create(policies::ModelConfig::preset("deepseek_v3", "tiny"), seed);
  return m->checkpoint_tensors();  // fp32 parameters and the MoE layers' fp32 routing biases
}

void expect_staged_tensors(const NamedTensors& got, const NamedTensors& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first);
    EXPECT_EQ(got[i].second.scalar_type(), want[i].second.scalar_type()) << want[i].first;
    EXPECT_TRUE(torch::equal(got[i].second, want[i].second)) << want[i].first;
  }
}

// The seqlock header of the segment a message names, writable (a test posing as a writer mid-copy).
class StagingTestHeader {
 public:
  explicit StagingTestHeader(const WireMessage& announcement) {
    int fd = shm_open(announcement.fields["segment"].get<std::string>().c_str(), O_RDWR, 0);
    EXPECT_GE(fd, 0);
    data_ = mmap(nullptr, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
  }
  ~StagingTestHeader() { munmap(data_, 64); }
  StagingHeader& operator*() { return *static_cast<StagingHeader*>(data_); }

 private:
  void* data_;
};

TEST(WeightStaging, ReaderGetsEachWrittenVersionExactly) {
  NamedTensors v1 = staging_test_weights(1), v2 = staging_test_weights(2);
  StagingWriter writer(v1);
  StagingReader reader;
  writer.write(1, v1);
  auto got1 = reader.read(writer.announcement(1), torch::kCPU);
  ASSERT_TRUE(got1);
  EXPECT_EQ(got1->version, 1);
  expect_staged_tensors(got1->tensors, v1);
  writer.write(2, v2);
  auto got2 = reader.read(writer.announcement(2), torch::kCPU);
  ASSERT_TRUE(got2);
  expect_staged_tensors(got2->tensors, v2);
  expect_staged_tensors(got1->tensors, v1);  // a returned version is a copy: later versions leave it alone
  EXPECT_FALSE(reader.read(writer.announcement(1), torch::kCPU)) << "version 1 is no longer in the buffer";
  expect_staged_tensors(writer.snapshot().tensors, v2);
  EXPECT_EQ(writer.snapshot().version, 2);
}

TEST(WeightStaging, VersionBeingOverwrittenIsNeverReturned) {
  NamedTensors v1 = staging_test_weights(1);
  StagingWriter writer(v1);
  StagingReader reader;
  writer.write(1, v1);
  StagingTestHeader header(writer.announcement(1));
  (*header).begin.store(2);  // a writer has begun version 2: the bytes may be half of each
  EXPECT_FALSE(reader.read(writer.announcement(1), torch::kCPU));
  EXPECT_FALSE(reader.read(writer.announcement(2), torch::kCPU)) << "version 2 is not complete";
  (*header).end.store(2);
  EXPECT_TRUE(reader.read(writer.announcement(2), torch::kCPU));
}

TEST(WeightStaging, WriterRacingAReaderNeverYieldsAMixedVersion) {
  // Each version fills every tensor with its own number: a torn copy would mix two.
  auto filled = [](int64_t v) {
    return NamedTensors{{"a", torch::full({1 << 18}, static_cast<float>(v))}, {"b", torch::full({3, 1000}, static_cast<double>(v))}};
  };
  StagingWriter writer(filled(0));
  writer.write(0, filled(0));
  std::atomic<int64_t> published{0};
  std::atomic<bool> done{false};
  std::thread writing([&] {
    for (int64_t v = 1; v <= 400; ++v) {
      writer.write(v, filled(v));
      published = v;
    }
    done = true;
  });
  StagingReader reader;
  int64_t accepted = 0, dropped = 0, mixed = 0;
  while (!done) {
    int64_t v = published;
    auto set = reader.read(writer.announcement(v), torch::kCPU);
    if (!set) {
      ++dropped;
      continue;
    }
    ++accepted;
    for (const auto& [name, t] : set->tensors)
      if (!torch::all(t == static_cast<double>(v)).item<bool>()) ++mixed;
  }
  writing.join();
  EXPECT_EQ(mixed, 0) << "accepted copies mixing two versions";
  EXPECT_GT(accepted, 0);
  ::testing::Test::RecordProperty("accepted_reads", std::to_string(accepted));
  ::testing::Test::RecordProperty("dropped_reads", std::to_string(dropped));
}

TEST(WeightStaging, VersionOfAnotherLayoutIsRefused) {
  NamedTensors v1 = staging_test_weights(1);
  StagingWriter writer(v1);
  NamedTensors wrong = v1;
  wrong[0].second = wrong[0].second.to(torch::kBFloat16);
  EXPECT_THROW(writer.write(1, wrong), Error);
  wrong = v1;
  wrong.pop_back();
  EXPECT_THROW(writer.write(1, wrong), Error);
  StagingReader reader;
  WireMessage bad = writer.announcement(1);
  bad.fields["tensors"][0]["offset"] = writer.bytes();  // past the end
  EXPECT_THROW(reader.read(bad, torch::kCPU), ProtocolError);
}

}  // namespace
}  // namespace grpo::rollout
