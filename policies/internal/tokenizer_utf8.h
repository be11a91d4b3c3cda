// tokenizer_utf8.h: UTF-8 helpers the tokenizer needs: decoding one code point
// (invalid bytes come back as single units, never dropped), encoding, and
// lossy validation with the "maximal subpart" replacement rule that Rust's
// String::from_utf8_lossy and Python's errors="replace" both follow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace grpo::policies::internal {

// Marks a byte that does not start a valid UTF-8 sequence: kInvalidByte | byte.
constexpr uint32_t kInvalidByte = 0x80000000u;

// Decodes the code point at text[pos]; sets `length` to the bytes it spans
// (1 for an invalid byte, returned as kInvalidByte | byte).
uint32_t utf8_decode(std::string_view text, size_t pos, size_t& length);

// Appends the UTF-8 encoding of `cp` (an invalid-byte marker appends that byte).
void utf8_append(std::string& out, uint32_t cp);

// `bytes` as valid UTF-8: each maximal invalid subpart becomes U+FFFD.
std::string utf8_lossy(std::string_view bytes);

// Byte length of the longest prefix of `bytes` that ends on a complete
// character (for streaming decode: the rest may complete later).
size_t utf8_complete_prefix(std::string_view bytes);

// Unicode White_Space (what Oniguruma's \s matches).
bool is_unicode_whitespace(uint32_t cp);

}  // namespace grpo::policies::internal
