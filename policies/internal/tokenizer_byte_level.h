// tokenizer_byte_level.h: GPT-2's bytes_to_unicode map (model-reference.md
// §3.5). Every byte has one printable character; vocab strings of byte-level
// BPE are written in that alphabet.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace grpo::policies::internal {

// Code point that stands for `byte` in the byte-level alphabet.
uint32_t byte_to_code_point(uint8_t byte);

// The byte a byte-level code point stands for, or -1 when `cp` is not in the alphabet.
int code_point_to_byte(uint32_t cp);

// `bytes` written in the byte-level alphabet (UTF-8).
std::string bytes_to_byte_level(std::string_view bytes);

// Inverse of bytes_to_byte_level, as the ByteLevel decoder does it: if any
// character of `token` is outside the alphabet, the token's own UTF-8 bytes.
std::string byte_level_to_bytes(std::string_view token);

}  // namespace grpo::policies::internal
