// gguf_dequant.cpp: ggml type table and block dequantisation (vectorised with
// torch ops over all blocks at once; the per-value formula is ggml's).
#include "policies/gguf_dequant.h"

#include "core/error.h"

namespace grpo::policies {

namespace {

// ggml tensor types (ggml.h, enum ggml_type) that dequantize() reads.
constexpr uint32_t kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ8_0 = 8, kGgmlBF16 = 30;

struct TypeEntry {
  uint32_t id;
  GgmlTypeTraits traits;
};
// ggml.h's enum ggml_type with ggml.c's type_traits (ids 4, 5, 31-33 and
// 36-38 are retired or unused there too).
const TypeEntry kTypes[] = {
    {0, {"F32", 1, 4}},         {1, {"F16", 1, 2}},        {2, {"Q4_0", 32, 18}},     {3, {"Q4_1", 32, 20}},
    {6, {"Q5_0", 32, 22}},      {7, {"Q5_1", 32, 24}},     {8, {"Q8_0", 32, 34}},     {9, {"Q8_1", 32, 40}},
    {10, {"Q2_K", 256, 84}},    {11, {"Q3_K", 256, 110}},  {12, {"Q4_K", 256, 144}},  {13, {"Q5_K", 256, 176}},
    {14, {"Q6_K", 256, 210}},   {15, {"Q8_K", 256, 292}},  {16, {"IQ2_XXS", 256, 66}}, {17, {"IQ2_XS", 256, 74}},
    {18, {"IQ3_XXS", 256, 98}}, {19, {"IQ1_S", 256, 50}},  {20, {"IQ4_NL", 32, 18}},  {21, {"IQ3_S", 256, 110}},
    {22, {"IQ2_S", 256, 82}},   {23, {"IQ4_XS", 256, 136}}, {24, {"I8", 1, 1}},        {25, {"I16", 1, 2}},
    {26, {"I32", 1, 4}},        {27, {"I64", 1, 8}},       {28, {"F64", 1, 8}},       {29, {"IQ1_M", 256, 56}},
    {30, {"BF16", 1, 2}},       {34, {"TQ1_0", 256, 54}},  {35, {"TQ2_0", 256, 66}},  {39, {"MXFP4", 32, 17}},
};

// Bytes [begin, end) of every block as a [blocks, end-begin] uint8 tensor.
torch::Tensor field(const torch::Tensor& blocks, int64_t begin, int64_t end) {
  return blocks.slice(1, begin, end).contiguous();
}

// The f16 scale at bytes [begin, begin+2) of every block, as [blocks, 1] fp32.
torch::Tensor f16_field(const torch::Tensor& blocks, int64_t begin) {
  return field(blocks, begin, begin + 2).view(torch::kHalf).to(torch::kFloat);
}

// The 32 4-bit values of every block: low nibbles are values 0..15, high
// nibbles values 16..31 ([blocks, 32] fp32, 0..15).
torch::Tensor nibbles(const torch::Tensor& qs) {
  torch::Tensor lo = torch::bitwise_and(qs, 0x0F);
  torch::Tensor hi = torch::bitwise_right_shift(qs, 4);
  return torch::cat({lo, hi}, 1).to(torch::kFloat);
}

}  // namespace

const GgmlTypeTraits* ggml_type_traits(uint32_t type) {
  for (const auto& t : kTypes)
    if (t.id == type) return &t.traits;
  return nullptr;
}

std::string ggml_type_name(uint32_t type) {
  const GgmlTypeTraits* t = ggml_type_traits(type);
  return t ? t->name : "unknown type " + std::to_string(type);
}

bool ggml_type_supported(uint32_t type) {
  return type == kGgmlF32 || type == kGgmlF16 || type == kGgmlBF16 || type == kGgmlQ8_0 || type == kGgmlQ4_0 || type == kGgmlQ4_1;
}

std::string ggml_supported_types() { return "F32, F16, BF16, Q8_0, Q4_0, Q4_1"; }

torch::Tensor dequantize(uint32_t type, const uint8_t* data, int64_t n) {
  if (!ggml_type_supported(type))
    throw Error("cannot dequantise ggml type " + ggml_type_name(type) + " (supported: " + ggml_supported_types() + ")");
  const GgmlTypeTraits& t = *ggml_type_traits(type);
  if (n % t.block_size != 0)
    throw Error(std::to_string(n) + " values of " + t.name + " are not whole blocks of " + std::to_string(t.block_size));
  const int64_t nb = n / t.block_size;
  // from_blob does not own `data`: every branch returns a fresh tensor.
  auto* raw = const_cast<uint8_t*>(data);
  if (type == kGgmlF32) return torch::from_blob(raw, {n}, torch::kFloat).clone();
  if (type == kGgmlF16) return torch::from_blob(raw, {n}, torch::kHalf).to(torch::kFloat);
  if (type == kGgmlBF16) return torch::from_blob(raw, {n}, torch::kBFloat16).to(torch::kFloat);
  torch::Tensor blocks = torch::from_blob(raw, {nb, t.type_size}, torch::kUInt8);
  torch::Tensor d = f16_field(blocks, 0);
  torch::Tensor x;
  if (type == kGgmlQ8_0) {
    x = field(blocks, 2, 34).view(torch::kChar).to(torch::kFloat) * d;
  } else if (type == kGgmlQ4_0) {
    x = (nibbles(field(blocks, 2, 18)) - 8.0f) * d;
  } else {  // kGgmlQ4_1
    x = nibbles(field(blocks, 4, 20)) * d + f16_field(blocks, 2);
  }
  return x.reshape({n});
}

}  // namespace grpo::policies
