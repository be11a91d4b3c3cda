// tokenizer_nfc.h: Unicode Normalization Form C, the `NFC` normalizer of
// tokenizer.json (Qwen). Tables from tokenizer_nfc_data.cpp. Invalid UTF-8
// bytes pass through unchanged. Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>

namespace grpo::policies::internal {

// True when `text` certainly is NFC already (the common case, checked fast).
bool nfc_quick_check(std::string_view text);

// NFC of `text`.
std::string nfc(std::string_view text);

}  // namespace grpo::policies::internal
