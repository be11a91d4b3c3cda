// crc32c.h (report-internal): CRC-32C (Castagnoli), the checksum of TFRecord
// framing, and TensorFlow's "masked" variant of it. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>

namespace grpo::report::internal {

// CRC-32C of `size` bytes at `data` (reflected polynomial 0x82F63B78).
// crc32c("123456789") == 0xE3069283, the standard check value.
uint32_t crc32c(const void* data, size_t size);

// TFRecord stores masked CRCs so that a CRC over bytes that themselves contain
// CRCs stays well-distributed (tensorflow/core/lib/hash/crc32c.h, Mask()).
uint32_t masked_crc32c(const void* data, size_t size);

}  // namespace grpo::report::internal
