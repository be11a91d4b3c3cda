#include "policies/internal/tokenizer_byte_level.h"

#include "policies/internal/tokenizer_utf8.h"

namespace grpo::policies::internal {
namespace {

bool printable(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

struct Tables {
  std::array<uint32_t, 256> to_cp{};
  Tables() {
    uint32_t next = 0x100;  // the 68 unprintable bytes, in order, from U+0100
    for (int b = 0; b < 256; ++b) to_cp[b] = printable(b) ? static_cast<uint32_t>(b) : next++;
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_to_code_point(uint8_t byte) { return tables().to_cp[byte]; }

int code_point_to_byte(uint32_t cp) {
  if (cp < 0x100) return printable(static_cast<int>(cp)) ? static_cast<int>(cp) : -1;
  if (cp > 0x143) return -1;
  const uint32_t k = cp - 0x100;  // k-th unprintable byte
  uint32_t seen = 0;
  for (int b = 0; b < 256; ++b) {
    if (printable(b)) continue;
    if (seen++ == k) return b;
  }
  return -1;
}

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) utf8_append(out, byte_to_code_point(static_cast<uint8_t>(c)));
  return out;
}

std::string byte_level_to_bytes(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    size_t len = 0;
    const int b = code_point_to_byte(utf8_decode(token, pos, len));
    if (b < 0) return std::string(token);
    out.push_back(static_cast<char>(b));
    pos += len;
  }
  return out;
}

}  // namespace grpo::policies::internal
