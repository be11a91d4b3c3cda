#include "core/tensor_codec.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace grpo {
namespace {

TEST(TensorCodecTest, RoundTripsEveryDtype) {
  for (auto dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat16, torch::kFloat64, torch::kInt64, torch::kInt32}) {
    auto t = (torch::randn({3, 4, 5}) * 10).to(dtype);
    auto back = decode_tensor(tensor_meta("w", t), tensor_bytes(t), "test");
    EXPECT_EQ(back.scalar_type(), dtype);
    EXPECT_TRUE(torch::equal(back, t)) << dtype_name(dtype);
  }
}

TEST(TensorCodecTest, NonContiguousIsPackedRowMajor) {
  auto t = torch::arange(12, torch::kFloat32).reshape({3, 4}).t();
  auto back = decode_tensor(tensor_meta("t", t), tensor_bytes(t), "test");
  EXPECT_TRUE(torch::equal(back, t));
}

TEST(TensorCodecTest, RejectsInconsistentMeta) {
  auto t = torch::ones({2, 2});
  auto bytes = tensor_bytes(t);
  EXPECT_THROW(decode_tensor(tensor_meta("t", t), bytes.substr(1), "p"), ProtocolError);
  auto meta = tensor_meta("t", t);
  meta["dtype"] = "complex512";
  EXPECT_THROW(decode_tensor(meta, bytes, "p"), ProtocolError);
  meta = tensor_meta("t", t);
  meta["shape"] = {-1, 4};
  EXPECT_THROW(decode_tensor(meta, bytes, "p"), ProtocolError);
  meta["shape"] = {1ULL << 40, 1ULL << 40};
  EXPECT_THROW(decode_tensor(meta, bytes, "p"), ProtocolError);
  EXPECT_THROW(decode_tensor(nlohmann::json::array(), bytes, "p"), ProtocolError);
}

}  // namespace
}  // namespace grpo
