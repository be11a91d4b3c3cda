#include "core/wire_message.h"

#include <array>

#include "core/error.h"

namespace grpo {

namespace {

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

uint32_t crc32(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::vector<std::string> encode_message(const WireMessage& message) {
  nlohmann::json sizes = nlohmann::json::array();
  nlohmann::json crcs = nlohmann::json::array();
  for (const std::string& f : message.frames) {
    sizes.push_back(f.size());
    crcs.push_back(crc32(f.data(), f.size()));
  }
  nlohmann::json header = {{"grpo", kWireProtocolVersion},
                           {"type", message.type},
                           {"fields", message.fields},
                           {"frames", sizes},
                           {"crc32", crcs}};
  std::vector<std::string> parts;
  parts.reserve(message.frames.size() + 1);
  parts.push_back(header.dump());
  for (const std::string& f : message.frames) parts.push_back(f);
  return parts;
}

WireMessage decode_message(const std::vector<std::string>& parts, const std::string& peer) {
  auto fail = [&](const std::string& type, const std::string& why) -> ProtocolError {
    return ProtocolError(peer, type, "rejected message: " + why);
  };
  if (parts.empty()) throw fail("", "no frames");
  if (parts[0].size() > kMaxHeaderBytes) throw fail("", "header of " + std::to_string(parts[0].size()) + " bytes exceeds the limit");
  nlohmann::json header = nlohmann::json::parse(parts[0], nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) throw fail("", "header is not a JSON object");
  auto version = header.find("grpo");
  if (version == header.end() || !version->is_number_integer()) throw fail("", "header lacks the integer protocol version \"grpo\"");
  auto type = header.find("type");
  if (type == header.end() || !type->is_string()) throw fail("", "header lacks a string \"type\"");
  WireMessage out;
  out.type = type->get<std::string>();
  if (version->get<int64_t>() != kWireProtocolVersion)
    throw fail(out.type, "protocol version " + version->dump() + ", this build speaks " + std::to_string(kWireProtocolVersion) +
                             "; run the same grpo version on both sides");
  auto fields = header.find("fields");
  if (fields != header.end() && !fields->is_object()) throw fail(out.type, "\"fields\" is not an object");
  if (fields != header.end()) out.fields = *fields;
  auto sizes = header.find("frames");
  auto crcs = header.find("crc32");
  if (sizes == header.end() || !sizes->is_array() || crcs == header.end() || !crcs->is_array())
    throw fail(out.type, "header lacks the \"frames\" and \"crc32\" arrays");
  size_t n = parts.size() - 1;
  if (sizes->size() != n || crcs->size() != n || n > kMaxFrames)
    throw fail(out.type, "header announces " + std::to_string(sizes->size()) + " frames, " + std::to_string(n) + " arrived");
  out.frames.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& f = parts[i + 1];
    const auto& size = (*sizes)[i];
    const auto& crc = (*crcs)[i];
    if (!size.is_number_unsigned() || size.get<uint64_t>() != f.size())
      throw fail(out.type, "frame " + std::to_string(i) + " has " + std::to_string(f.size()) + " bytes, header says " + size.dump());
    if (!crc.is_number_unsigned() || crc.get<uint64_t>() != crc32(f.data(), f.size()))
      throw fail(out.type, "frame " + std::to_string(i) + " fails its checksum");
    out.frames.push_back(f);
  }
  return out;
}

}  // namespace grpo
