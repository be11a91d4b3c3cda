// wire_message.h: the message format between grpo processes (orchestrator,
// rollout workers): one small versioned JSON header frame plus binary frames.
//
//   WireMessage m{"result", {{"request_id", 7}}, {bytes_a, bytes_b}};
//   std::vector<std::string> parts = encode_message(m);       // send as one multipart
//   WireMessage back = decode_message(parts, "worker w3");     // throws ProtocolError
//
// Header (frame 0), JSON: {"grpo": <protocol version>, "type": "...",
// "fields": {...}, "frames": [byte size of each binary frame],
// "crc32": [CRC-32 of each binary frame]}. Decoding checks all of it: valid
// JSON object, the protocol version, a string type, the frame count and
// sizes, every checksum. A bad message raises ProtocolError (never a crash);
// callers at a socket loop catch it, log, and keep serving. Whether the type
// is one the receiver understands is the receiver's check. Stateless and
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace grpo {

// Bumped on any incompatible change of the header or of a message's fields.
inline constexpr int kWireProtocolVersion = 1;
// Limits that keep a hostile or corrupt header from costing much.
inline constexpr size_t kMaxHeaderBytes = 1 << 20;
inline constexpr size_t kMaxFrames = 1 << 16;

struct WireMessage {
  std::string type;
  nlohmann::json fields = nlohmann::json::object();  // the message's own header fields
  std::vector<std::string> frames;                  // binary payloads (tensors, files)
};

// Header frame followed by the binary frames.
std::vector<std::string> encode_message(const WireMessage& message);

// Inverse of encode_message; `peer` names the sender in error messages.
WireMessage decode_message(const std::vector<std::string>& parts, const std::string& peer);

// CRC-32 (IEEE 802.3, as zlib's crc32) of a byte range.
uint32_t crc32(const void* data, size_t size);

}  // namespace grpo
