// cuda_ipc.h: the CUDA-only part of the shared weight staging buffer
// (rollout/weight_staging.h): exporting a device buffer to another process on
// the same machine and mapping it there, through the CUDA caching allocator's
// IPC handles (what torch.multiprocessing uses: cudaIpcGetMemHandle of the
// allocation holding the buffer, plus the buffer's offset in it).
//
//   IpcBuffer shared = export_device_buffer(region);            // learner
//   torch::Tensor view = import_device_buffer(shared, bytes);   // worker: uint8 [bytes] on the same GPU
//
// Built without CUDA (GRPO_WITH_CUDA undefined) both throw grpo::Error.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace grpo::rollout {

// What a worker needs to map a device buffer: the allocator's handle bytes,
// the buffer's offset within that allocation and its device index.
struct IpcBuffer {
  std::string handle;
  int64_t offset = 0;
  int64_t device_index = 0;
};

// `region` must be a contiguous CUDA tensor allocated by LibTorch; it must
// outlive every importer's use.
IpcBuffer export_device_buffer(const torch::Tensor& region);
// A uint8 tensor of `bytes` over the exported memory; the mapping is held as
// long as the tensor (or a view of it) lives.
torch::Tensor import_device_buffer(const IpcBuffer& buffer, int64_t bytes);

}  // namespace grpo::rollout
