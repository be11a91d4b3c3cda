// device.h: the device a recipe asks for ("cpu", "cuda", "cuda:N") as a
// torch::Device, checked against what this LibTorch and machine provide, so a
// recipe that asks for a GPU the process cannot use fails at startup with the
// key at fault instead of deep inside the first forward.
//
//   torch::Device d = device_from_config(recipe.model.device, "model.device");
//   model->to(d);
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace grpo {

// What the process can run on: CUDA devices visible, and whether this LibTorch
// was built with CUDA at all. Parameter of device_from_config so tests can
// pose as a GPU machine or a CPU-only build.
struct DeviceInventory {
  bool cuda_built = false;   // LibTorch has its CUDA backend (at::globalContext().hasCUDART())
  int64_t cuda_devices = 0;  // devices the driver shows (0 without a driver or GPU)

  static DeviceInventory current();
};

// Parses `text` ("cpu", "cuda" = "cuda:0", "cuda:N") into a device, or throws
// ConfigError naming `key`: for any other string, for CUDA with a LibTorch
// built without it, for CUDA without a visible device, and for N past the last
// device.
torch::Device device_from_config(const std::string& text, const std::string& key,
                                 const DeviceInventory& inventory = DeviceInventory::current());

}  // namespace grpo
