// tokenizer_nfc_data.h: Unicode tables for NFC (generated into
// tokenizer_nfc_data.cpp by tokenizer_nfc_gen.py). All arrays are sorted by
// their first field so lookups are binary searches.
#pragma once

#include <cstddef>
#include <cstdint>

namespace grpo::policies::internal {

struct CombiningClass {
  uint32_t code_point;
  uint8_t ccc;  // canonical combining class, never 0 in the table
};

// Full canonical decomposition of code_point: pool[offset, offset + length).
struct Decomposition {
  uint32_t code_point;
  uint32_t offset;
  uint32_t length;
};

// first + second compose to composite (primary composites only).
struct Composition {
  uint32_t first;
  uint32_t second;
  uint32_t composite;
};

struct CodePointRange {
  uint32_t first;
  uint32_t last;  // inclusive
};

extern const CombiningClass kCombiningClasses[];
extern const size_t kCombiningClassCount;
extern const uint32_t kDecompositionPool[];
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;
extern const Composition kCompositions[];
extern const size_t kCompositionCount;
// Code points whose presence means NFC may change the text; text without any
// of them is already NFC (the quick check).
extern const CodePointRange kNfcSensitive[];
extern const size_t kNfcSensitiveCount;

}  // namespace grpo::policies::internal
