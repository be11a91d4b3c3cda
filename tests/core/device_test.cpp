// Tests of device_from_config: the recipe's device string, checked against a
// stated inventory (a CPU-only build, a machine with two GPUs).
#include "core/device.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace grpo {
namespace {

const DeviceInventory kCpuOnlyBuild{/*cuda_built=*/false, /*cuda_devices=*/0};
const DeviceInventory kNoDriver{/*cuda_built=*/true, /*cuda_devices=*/0};
const DeviceInventory kTwoGpus{/*cuda_built=*/true, /*cuda_devices=*/2};

// The message of the ConfigError `text` raises, or "" when it parses.
std::string error_of(const std::string& text, const DeviceInventory& inv) {
  try {
    device_from_config(text, "model.device", inv);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "model.device");
    return e.what();
  }
  return "";
}

TEST(DeviceFromConfigTest, CpuNeedsNoCuda) {
  EXPECT_EQ(device_from_config("cpu", "model.device", kCpuOnlyBuild), torch::Device(torch::kCPU));
}

TEST(DeviceFromConfigTest, CudaMeansDeviceZero) {
  EXPECT_EQ(device_from_config("cuda", "model.device", kTwoGpus), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(device_from_config("cuda:0", "model.device", kTwoGpus), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(device_from_config("cuda:1", "model.device", kTwoGpus), torch::Device(torch::kCUDA, 1));
}

TEST(DeviceFromConfigTest, MalformedStringsNameTheKeyAndTheForms) {
  for (const char* bad : {"gpu", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "cuda0", " cpu", "mps", ""}) {
    std::string msg = error_of(bad, kTwoGpus);
    EXPECT_NE(msg.find("model.device"), std::string::npos) << bad;
    EXPECT_NE(msg.find("expected \"cpu\", \"cuda\" or \"cuda:N\""), std::string::npos) << bad << ": " << msg;
  }
}

TEST(DeviceFromConfigTest, CudaWithACpuOnlyLibTorchSaysSo) {
  std::string msg = error_of("cuda", kCpuOnlyBuild);
  EXPECT_NE(msg.find("built without CUDA"), std::string::npos) << msg;
}

TEST(DeviceFromConfigTest, CudaWithoutAVisibleDeviceSaysSo) {
  std::string msg = error_of("cuda:0", kNoDriver);
  EXPECT_NE(msg.find("no CUDA device is visible"), std::string::npos) << msg;
}

TEST(DeviceFromConfigTest, IndexPastTheLastDeviceIsRejected) {
  std::string msg = error_of("cuda:2", kTwoGpus);
  EXPECT_NE(msg.find("only 2 are visible"), std::string::npos) << msg;
}

// The inventory of this process agrees with LibTorch's own view.
TEST(DeviceFromConfigTest, CurrentInventoryMatchesLibTorch) {
  DeviceInventory inv = DeviceInventory::current();
  EXPECT_EQ(inv.cuda_devices > 0, torch::cuda::is_available());
  if (inv.cuda_devices == 0) EXPECT_THROW(device_from_config("cuda", "run.device"), ConfigError);
  else EXPECT_EQ(device_from_config("cuda", "run.device"), torch::Device(torch::kCUDA, 0));
}

}  // namespace
}  // namespace grpo
