// gguf_dequant.h: ggml's tensor types (names, block sizes) and the
// dequantisation of the ones a Llama GGUF import needs, to fp32, with ggml's
// exact block layouts (ggml-quants.c, dequantize_row_*):
//   F32, F16, BF16        plain little-endian values
//   Q8_0  34 bytes/32 values: f16 d, int8 q[32];           x = q*d
//   Q4_0  18 bytes/32 values: f16 d, u8 qs[16];            x = (nibble-8)*d
//   Q4_1  20 bytes/32 values: f16 d, f16 m, u8 qs[16];     x = nibble*d + m
// In the 4-bit types, byte j holds value j in its low nibble and value j+16 in
// its high nibble. The arithmetic is fp32 in the order ggml and the `gguf`
// Python package use, so results are bit-identical to theirs.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace grpo::policies {

// Layout of one ggml type: values per block and bytes per block.
struct GgmlTypeTraits {
  const char* name;
  int64_t block_size;
  int64_t type_size;
};

// Traits of ggml type `type`, or nullptr for an id ggml does not define.
const GgmlTypeTraits* ggml_type_traits(uint32_t type);
// "Q4_1", or "unknown type 99".
std::string ggml_type_name(uint32_t type);
// Whether dequantize() handles `type`.
bool ggml_type_supported(uint32_t type);
// The supported types, comma-separated, for error messages.
std::string ggml_supported_types();

// `n` values of `type` stored in `data` (n / block_size whole blocks) as a 1-D
// fp32 tensor. Throws grpo::Error for an unsupported type or n not a multiple
// of the block size.
torch::Tensor dequantize(uint32_t type, const uint8_t* data, int64_t n);

}  // namespace grpo::policies
