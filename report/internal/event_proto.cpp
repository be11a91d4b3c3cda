#include "report/internal/event_proto.h"

#include <cstring>

#include "report/internal/crc32c.h"

namespace grpo::report::internal {
namespace {

// Protobuf wire types (developers.google.com/protocol-buffers/docs/encoding).
constexpr int kVarint = 0;
constexpr int kFixed64 = 1;
constexpr int kLengthDelimited = 2;
constexpr int kFixed32 = 5;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, int field, int wire_type) { put_varint(out, (uint64_t(field) << 3) | wire_type); }

template <typename T>
void put_little_endian(std::string& out, T value) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86/ARM little-endian hosts: the wire order already
  out.append(reinterpret_cast<const char*>(bytes), sizeof(T));
}

void put_bytes_field(std::string& out, int field, std::string_view bytes) {
  put_tag(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_double_field(std::string& out, int field, double v) {
  put_tag(out, field, kFixed64);
  put_little_endian(out, v);
}

// Reads protobuf fields one at a time; any malformation makes ok() false.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : p_(bytes) {}
  bool done() const { return pos_ >= p_.size() || !ok_; }
  bool ok() const { return ok_; }

  // Next field header; false at the end or on malformed input.
  bool next(int& field, int& wire_type) {
    if (done()) return false;
    uint64_t key = varint();
    field = static_cast<int>(key >> 3);
    wire_type = static_cast<int>(key & 7);
    return ok_ && field > 0;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= p_.size()) break;
      auto b = static_cast<unsigned char>(p_[pos_++]);
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  template <typename T>
  T fixed() {
    T v{};
    if (pos_ + sizeof(T) > p_.size()) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, p_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view bytes() {
    uint64_t n = varint();
    if (!ok_ || n > p_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string_view out = p_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case kVarint: varint(); break;
      case kFixed64: fixed<uint64_t>(); break;
      case kLengthDelimited: bytes(); break;
      case kFixed32: fixed<uint32_t>(); break;
      default: ok_ = false;  // groups (3, 4) are never in event files
    }
  }

 private:
  std::string_view p_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Summary.Value: tag=1, simple_value=2.
bool decode_value(std::string_view bytes, std::map<std::string, float>& scalars) {
  WireReader r(bytes);
  std::string tag;
  std::optional<float> value;
  int field = 0, type = 0;
  while (r.next(field, type)) {
    if (field == 1 && type == kLengthDelimited) tag = std::string(r.bytes());
    else if (field == 2 && type == kFixed32) value = r.fixed<float>();
    else r.skip(type);
  }
  if (r.ok() && value) scalars[tag] = *value;
  return r.ok();
}

}  // namespace

std::string encode_file_version_event(double wall_time) {
  std::string out;
  put_double_field(out, 1, wall_time);
  put_bytes_field(out, 3, "brain.Event:2");
  return out;
}

std::string encode_scalars_event(double wall_time, int64_t step, const std::map<std::string, double>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string v;
    put_bytes_field(v, 1, tag);
    put_tag(v, 2, kFixed32);
    put_little_endian(v, static_cast<float>(value));
    put_bytes_field(summary, 1, v);
  }
  std::string out;
  put_double_field(out, 1, wall_time);
  put_tag(out, 2, kVarint);
  put_varint(out, static_cast<uint64_t>(step));  // int64: negatives take ten bytes, as protobuf does
  put_bytes_field(out, 5, summary);
  return out;
}

std::string encode_restart_event(double wall_time, int64_t step) {
  constexpr uint64_t kStart = 1;  // SessionLog.SessionStatus.START
  std::string session_log;
  put_tag(session_log, 1, kVarint);
  put_varint(session_log, kStart);
  std::string out;
  put_double_field(out, 1, wall_time);
  put_tag(out, 2, kVarint);
  put_varint(out, static_cast<uint64_t>(step));
  put_bytes_field(out, 7, session_log);
  return out;
}

std::optional<DecodedEvent> decode_event(std::string_view bytes) {
  DecodedEvent e;
  WireReader r(bytes);
  int field = 0, type = 0;
  while (r.next(field, type)) {
    if (field == 1 && type == kFixed64) {
      e.wall_time = r.fixed<double>();
    } else if (field == 2 && type == kVarint) {
      e.step = static_cast<int64_t>(r.varint());
    } else if (field == 5 && type == kLengthDelimited) {
      e.has_summary = true;
      WireReader s(r.bytes());
      int f = 0, t = 0;
      while (s.next(f, t)) {
        if (f == 1 && t == kLengthDelimited) {
          if (!decode_value(s.bytes(), e.scalars)) return std::nullopt;
        } else {
          s.skip(t);
        }
      }
      if (!s.ok()) return std::nullopt;
    } else {
      r.skip(type);
    }
  }
  if (!r.ok()) return std::nullopt;
  return e;
}

std::string frame_record(std::string_view data) {
  std::string out;
  uint64_t length = data.size();
  put_little_endian(out, length);
  put_little_endian(out, masked_crc32c(out.data(), sizeof(length)));
  out.append(data);
  put_little_endian(out, masked_crc32c(data.data(), data.size()));
  return out;
}

size_t scan_records(std::string_view file, size_t offset, const std::function<void(std::string_view)>& on_record) {
  constexpr size_t kHeader = sizeof(uint64_t) + sizeof(uint32_t);
  while (file.size() - offset >= kHeader) {
    uint64_t length = 0;
    uint32_t length_crc = 0, data_crc = 0;
    std::memcpy(&length, file.data() + offset, sizeof(length));
    std::memcpy(&length_crc, file.data() + offset + sizeof(length), sizeof(length_crc));
    if (length_crc != masked_crc32c(file.data() + offset, sizeof(length))) break;
    if (length > file.size() - offset - kHeader || file.size() - offset - kHeader - length < sizeof(uint32_t)) break;
    std::string_view data = file.substr(offset + kHeader, length);
    std::memcpy(&data_crc, file.data() + offset + kHeader + length, sizeof(data_crc));
    if (data_crc != masked_crc32c(data.data(), data.size())) break;
    on_record(data);
    offset += kHeader + length + sizeof(uint32_t);
  }
  return offset;
}

}  // namespace grpo::report::internal
