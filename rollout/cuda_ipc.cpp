// cuda_ipc.cpp: see cuda_ipc.h. The only code of the shared weight staging
// buffer that needs CUDA; everything else is the same on the CPU.
#include "rollout/cuda_ipc.h"

#include "core/error.h"

#if defined(GRPO_WITH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace grpo::rollout {

#if defined(GRPO_WITH_CUDA)

IpcBuffer export_device_buffer(const torch::Tensor& region) {
  if (!region.is_cuda() || !region.is_contiguous()) throw Error("export_device_buffer: needs a contiguous CUDA tensor");
  c10::cuda::CUDAGuard guard(region.device());
  // The handle names the allocator's whole block; the offset locates the
  // buffer inside it (the caching allocator may have carved it from a larger one).
  c10::cuda::CUDACachingAllocator::ShareableHandle shared = c10::cuda::CUDACachingAllocator::shareIpcHandle(region.data_ptr());
  return IpcBuffer{shared.handle, static_cast<int64_t>(shared.offset), region.device().index()};
}

torch::Tensor import_device_buffer(const IpcBuffer& buffer, int64_t bytes) {
  torch::Device device(torch::kCUDA, static_cast<c10::DeviceIndex>(buffer.device_index));
  c10::cuda::CUDAGuard guard(device);
  std::shared_ptr<void> base = c10::cuda::CUDACachingAllocator::getIpcDevPtr(buffer.handle);
  void* data = static_cast<char*>(base.get()) + buffer.offset;
  return torch::from_blob(
      data, {bytes}, [base](void*) mutable { base.reset(); }, torch::TensorOptions().dtype(torch::kUInt8).device(device));
}

#else

IpcBuffer export_device_buffer(const torch::Tensor&) {
  throw Error("sharing weights through CUDA IPC needs a LibTorch built with CUDA (this build has GRPO_WITH_CUDA off)");
}

torch::Tensor import_device_buffer(const IpcBuffer&, int64_t) {
  throw Error("mapping a CUDA IPC buffer needs a LibTorch built with CUDA (this build has GRPO_WITH_CUDA off)");
}

#endif

}  // namespace grpo::rollout
