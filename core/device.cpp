// device.cpp: see device.h.
#include "core/device.h"

#include <cctype>

#include "core/error.h"

namespace grpo {

DeviceInventory DeviceInventory::current() {
  DeviceInventory inv;
  inv.cuda_built = at::globalContext().hasCUDART();
  inv.cuda_devices = inv.cuda_built ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  return inv;
}

namespace {

// N of "cuda:N", or -1 when the suffix is not a plain decimal number.
int64_t device_index(const std::string& digits) {
  if (digits.empty() || digits.size() > 4) return -1;
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  return std::stoll(digits);
}

}  // namespace

torch::Device device_from_config(const std::string& text, const std::string& key, const DeviceInventory& inventory) {
  if (text == "cpu") return torch::Device(torch::kCPU);
  const std::string prefix = "cuda";
  int64_t index = -1;
  if (text == prefix) index = 0;
  else if (text.rfind(prefix + ":", 0) == 0) index = device_index(text.substr(prefix.size() + 1));
  if (index < 0) throw ConfigError("", key, "expected \"cpu\", \"cuda\" or \"cuda:N\" (N = 0, 1, ...), got \"" + text + "\"");
  if (!inventory.cuda_built)
    throw ConfigError("", key, "\"" + text + "\" asks for a GPU but this LibTorch was built without CUDA; "
                               "build against a CUDA LibTorch (scripts/gpu-check.sh, docs/gpu.md) or set " + key + " to \"cpu\"");
  if (inventory.cuda_devices == 0)
    throw ConfigError("", key, "\"" + text + "\" asks for a GPU but no CUDA device is visible (no driver, no GPU, or "
                               "CUDA_VISIBLE_DEVICES hides them); set " + key + " to \"cpu\"");
  if (index >= inventory.cuda_devices)
    throw ConfigError("", key, "\"" + text + "\" asks for CUDA device " + std::to_string(index) + " but only " +
                               std::to_string(inventory.cuda_devices) + " are visible (cuda:0 .. cuda:" +
                               std::to_string(inventory.cuda_devices - 1) + ")");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace grpo
