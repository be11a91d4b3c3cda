// weight_staging.h: one weights version at a time in a buffer shared by the
// learner's process and the rollout workers on its machine
// (rollout.weight_sync = shared), so that a new version costs one copy into
// the buffer plus a small version message over ZeroMQ instead of serialising
// every tensor through the socket.
//
//   // learner side (WorkerPool::publish_weights)
//   StagingWriter writer(tensors);             // layout and device from the first version
//   writer.write(3, tensors);
//   WireMessage m = writer.announcement(3);     // weights_staged: where the buffer is, its layout
//   // worker side
//   StagingReader reader;
//   if (auto set = reader.read(m, device)) apply_weights(*model, *set);   // nullopt: overwritten meanwhile
//
// Where the bytes live: for CPU tensors in a POSIX shared-memory segment; for
// CUDA tensors in device memory that workers map through CUDA IPC
// (rollout/cuda_ipc.h, the only CUDA-specific code), so a version goes from
// the learner's parameters to a worker's without touching the host. Either way
// the segment's header holds two version counters used as a seqlock: the
// writer stores `begin = v` before copying and `end = v` once the copy has
// completed (device synchronised); a reader checks end == v, copies the whole
// buffer into memory of its own, then checks begin == v. If the writer began
// another version meanwhile the copy is dropped (nullopt) and the reader waits
// for that version's message: a worker never applies a partial version, and
// the writer never waits for readers.
//
// StagingWriter is thread-safe (the pool's I/O thread takes snapshots for
// workers that get chunks instead); StagingReader is not.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/wire_message.h"
#include "rollout/weight_sync.h"

namespace grpo::rollout {

// The seqlock at the start of the shared segment (see above).
struct StagingHeader {
  std::atomic<int64_t> begin{-1};  // version being or last written
  std::atomic<int64_t> end{-1};    // version completely written
};

namespace internal {
class SharedSegment;
}

// The learner's side: owns the segment (unlinked on destruction) and the buffer.
class StagingWriter {
 public:
  // Lays out `layout`'s tensors (names, dtypes, shapes; 256-byte aligned) in a
  // buffer on their device. Throws grpo::Error when the segment cannot be created.
  explicit StagingWriter(const NamedTensors& layout);
  ~StagingWriter();
  StagingWriter(const StagingWriter&) = delete;
  StagingWriter& operator=(const StagingWriter&) = delete;

  // Copies `tensors` (same names, dtypes and shapes as the layout, else
  // grpo::Error) into the buffer as `version`.
  void write(int64_t version, const NamedTensors& tensors);
  // The weights_staged message telling a worker where `version` is.
  WireMessage announcement(int64_t version) const;
  // The newest version written, copied to CPU tensors (for workers that receive chunks).
  WeightSet snapshot() const;
  // Bytes of tensor data per version.
  int64_t bytes() const;

 private:
  struct Layout;
  mutable std::mutex mu_;
  std::unique_ptr<Layout> layout_;
  std::unique_ptr<internal::SharedSegment> segment_;
  torch::Tensor region_;  // uint8 [bytes]: in the segment (CPU) or on the GPU
  int64_t written_ = -1;
};

// A worker's side: maps the buffer named by a weights_staged message (once,
// kept for later versions) and copies a consistent version out of it.
class StagingReader {
 public:
  StagingReader();
  ~StagingReader();
  // The version announced by `message`, on `device` (tensors in fresh memory,
  // not the shared buffer), or nullopt when the buffer no longer holds it
  // (a newer version was or is being written). Throws ProtocolError for a
  // malformed message and grpo::Error when the buffer cannot be mapped (the
  // worker then asks for chunks).
  std::optional<WeightSet> read(const WireMessage& message, torch::Device device);

 private:
  std::string peer_ = "orchestrator";
  std::string name_;  // segment mapped, "" none
  std::unique_ptr<internal::SharedSegment> segment_;
  torch::Tensor region_;
};

}  // namespace grpo::rollout
