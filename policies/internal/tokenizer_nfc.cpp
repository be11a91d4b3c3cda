// NFC as in UAX #15: full canonical decomposition (Hangul algorithmically),
// canonical ordering of marks, then canonical composition.
#include "policies/internal/tokenizer_nfc.h"

#include <algorithm>
#include <vector>

#include "policies/internal/tokenizer_nfc_data.h"
#include "policies/internal/tokenizer_utf8.h"

namespace grpo::policies::internal {
namespace {

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

bool is_sensitive(uint32_t cp) {
  if (cp < 0x300 || (cp & kInvalidByte)) return false;
  const CodePointRange* end = kNfcSensitive + kNfcSensitiveCount;
  const CodePointRange* it =
      std::upper_bound(kNfcSensitive, end, cp, [](uint32_t v, const CodePointRange& r) { return v < r.first; });
  return it != kNfcSensitive && cp <= (it - 1)->last;
}

uint8_t combining_class(uint32_t cp) {
  if (cp < 0x300 || (cp & kInvalidByte)) return 0;
  const CombiningClass* end = kCombiningClasses + kCombiningClassCount;
  const CombiningClass* it =
      std::lower_bound(kCombiningClasses, end, cp, [](const CombiningClass& c, uint32_t v) { return c.code_point < v; });
  return it != end && it->code_point == cp ? it->ccc : 0;
}

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const Decomposition* end = kDecompositions + kDecompositionCount;
  const Decomposition* it =
      std::lower_bound(kDecompositions, end, cp, [](const Decomposition& d, uint32_t v) { return d.code_point < v; });
  if (it == end || it->code_point != cp) {
    out.push_back(cp);
    return;
  }
  out.insert(out.end(), kDecompositionPool + it->offset, kDecompositionPool + it->offset + it->length);
}

// The primary composite of (a, b), or 0 when they do not compose.
uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  const Composition* end = kCompositions + kCompositionCount;
  const Composition* it = std::lower_bound(kCompositions, end, std::make_pair(a, b), [](const Composition& c, const std::pair<uint32_t, uint32_t>& v) {
    return c.first != v.first ? c.first < v.first : c.second < v.second;
  });
  return it != end && it->first == a && it->second == b ? it->composite : 0;
}

void canonical_order(std::vector<uint32_t>& cps) {
  // Stable insertion sort of each run of non-starters by combining class.
  for (size_t i = 1; i < cps.size(); ++i) {
    const uint8_t c = combining_class(cps[i]);
    if (c == 0) continue;
    size_t j = i;
    while (j > 0 && combining_class(cps[j - 1]) > c) {
      std::swap(cps[j - 1], cps[j]);
      --j;
    }
  }
}

void canonical_compose(std::vector<uint32_t>& cps) {
  if (cps.empty()) return;
  size_t starter = 0;
  int last_class = combining_class(cps[0]) == 0 ? 0 : 256;
  size_t out = 1;
  for (size_t i = 1; i < cps.size(); ++i) {
    const uint32_t cp = cps[i];
    const int cls = combining_class(cp);
    const uint32_t composite = last_class == 256 ? 0 : compose_pair(cps[starter], cp);
    if (composite != 0 && (last_class < cls || last_class == 0)) {
      cps[starter] = composite;
      continue;
    }
    if (cls == 0) starter = out;
    last_class = cls;
    cps[out++] = cp;
  }
  cps.resize(out);
}

}  // namespace

bool nfc_quick_check(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0xCC) {  // below U+0300: never sensitive
      pos += 1;
      continue;
    }
    size_t len = 0;
    const uint32_t cp = utf8_decode(text, pos, len);
    if (is_sensitive(cp)) return false;
    pos += len;
  }
  return true;
}

std::string nfc(std::string_view text) {
  if (nfc_quick_check(text)) return std::string(text);
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    decompose(utf8_decode(text, pos, len), cps);
    pos += len;
  }
  canonical_order(cps);
  canonical_compose(cps);
  std::string out;
  out.reserve(text.size());
  for (uint32_t cp : cps) utf8_append(out, cp);
  return out;
}

}  // namespace grpo::policies::internal
