#include "core/tensor_codec.h"

#include <cstring>
#include <utility>
#include <vector>

#include "core/error.h"

namespace grpo {

namespace {

const std::vector<std::pair<std::string, torch::ScalarType>>& dtype_table() {
  static const std::vector<std::pair<std::string, torch::ScalarType>> table = {
      {"float32", torch::kFloat32}, {"bfloat16", torch::kBFloat16}, {"float16", torch::kFloat16},
      {"float64", torch::kFloat64}, {"int64", torch::kInt64},       {"int32", torch::kInt32},
      {"int8", torch::kInt8},       {"uint8", torch::kUInt8},       {"bool", torch::kBool}};
  return table;
}

// Maximum elements a received tensor may claim (2^40): guards the size arithmetic.
constexpr int64_t kMaxElements = int64_t{1} << 40;

}  // namespace

std::string dtype_name(torch::ScalarType dtype) {
  for (const auto& [name, t] : dtype_table())
    if (t == dtype) return name;
  throw Error(std::string("tensor dtype ") + c10::toString(dtype) + " cannot be sent over the wire");
}

std::optional<torch::ScalarType> parse_dtype(const std::string& name) {
  for (const auto& [n, t] : dtype_table())
    if (n == name) return t;
  return std::nullopt;
}

nlohmann::json tensor_meta(const std::string& name, const torch::Tensor& tensor) {
  return {{"name", name}, {"dtype", dtype_name(tensor.scalar_type())}, {"shape", tensor.sizes().vec()}};
}

std::string tensor_bytes(const torch::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
}

int64_t meta_byte_size(const nlohmann::json& meta, const std::string& peer) {
  std::string name = meta.is_object() && meta.contains("name") && meta["name"].is_string() ? meta["name"].get<std::string>() : "?";
  auto fail = [&](const std::string& why) { return ProtocolError(peer, "tensor", name + ": " + why); };
  if (!meta.is_object() || !meta.contains("dtype") || !meta["dtype"].is_string() || !meta.contains("shape") || !meta["shape"].is_array())
    throw fail("tensor meta needs a string \"dtype\" and a \"shape\" list");
  auto dtype = parse_dtype(meta["dtype"].get<std::string>());
  if (!dtype) throw fail("unknown dtype " + meta["dtype"].dump());
  int64_t numel = 1;
  for (const auto& d : meta["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) throw fail("shape entries must be non-negative integers, got " + d.dump());
    uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(kMaxElements) || (v > 0 && numel > kMaxElements / static_cast<int64_t>(v)))
      throw fail("shape " + meta["shape"].dump() + " is too large");
    numel *= static_cast<int64_t>(v);
  }
  return numel * static_cast<int64_t>(c10::elementSize(*dtype));
}

torch::Tensor decode_tensor(const nlohmann::json& meta, const std::string& bytes, const std::string& peer) {
  int64_t expected = meta_byte_size(meta, peer);
  if (expected != static_cast<int64_t>(bytes.size()))
    throw ProtocolError(peer, "tensor", meta.value("name", std::string("?")) + ": " + std::to_string(bytes.size()) +
                                            " bytes for a tensor of " + std::to_string(expected));
  std::vector<int64_t> shape;
  for (const auto& d : meta["shape"]) shape.push_back(d.get<int64_t>());
  auto out = torch::empty(shape, torch::TensorOptions().dtype(*parse_dtype(meta["dtype"].get<std::string>())));
  if (!bytes.empty()) std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
  return out;
}

}  // namespace grpo
