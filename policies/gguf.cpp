// gguf.cpp: the GGUF header parser (bounds-checked reads against the file size)
// and tensor reads.
#include "policies/gguf.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "policies/gguf_dequant.h"

namespace grpo::policies {

using nlohmann::json;

namespace {

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

// GGUF metadata value types (gguf.h, enum gguf_type).
enum ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// Minimum bytes one value of `type` takes (for sanity-checking array counts).
uint64_t min_value_bytes(uint32_t type) {
  switch (type) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kString: case kU64: case kI64: case kF64: return 8;
    case kArray: return 12;
    default: return 0;
  }
}

// Sequential little-endian reads from the file; each read first checks that
// the file holds the bytes, so truncation is reported with what was being read.
class Cursor {
 public:
  Cursor(const std::string& path, uint64_t size) : path_(path), size_(size), in_(path, std::ios::binary) {
    if (!in_) throw IoError(path, "cannot open");
  }
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void bytes(void* out, uint64_t n, const std::string& what) {
    if (n > remaining())
      throw IoError(path_, "truncated GGUF file: " + what + " needs " + std::to_string(n) + " bytes at offset " +
                               std::to_string(pos_) + ", file has " + std::to_string(size_) + " bytes");
    if (n > 0 && !in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n))) throw IoError(path_, "read failed at offset " + std::to_string(pos_));
    pos_ += n;
  }
  template <class T>
  T scalar(const std::string& what) {
    T v;
    bytes(&v, sizeof v, what);
    return v;
  }
  std::string string(const std::string& what) {
    uint64_t n = scalar<uint64_t>(what + " (length)");
    if (n > remaining())
      throw IoError(path_, "truncated or corrupt GGUF file: " + what + " claims " + std::to_string(n) + " bytes at offset " +
                               std::to_string(pos_) + ", only " + std::to_string(remaining()) + " remain");
    std::string s(n, '\0');
    bytes(s.data(), n, what);
    return s;
  }

 private:
  std::string path_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::ifstream in_;
};

json read_value(Cursor& c, uint32_t type, const std::string& what, const std::string& path) {
  switch (type) {
    case kU8: return c.scalar<uint8_t>(what);
    case kI8: return c.scalar<int8_t>(what);
    case kU16: return c.scalar<uint16_t>(what);
    case kI16: return c.scalar<int16_t>(what);
    case kU32: return c.scalar<uint32_t>(what);
    case kI32: return c.scalar<int32_t>(what);
    case kF32: return c.scalar<float>(what);
    case kBool: return c.scalar<uint8_t>(what) != 0;
    case kString: return c.string(what);
    case kU64: return c.scalar<uint64_t>(what);
    case kI64: return c.scalar<int64_t>(what);
    case kF64: return c.scalar<double>(what);
    case kArray: {
      uint32_t elem = c.scalar<uint32_t>(what + " (array type)");
      uint64_t n = c.scalar<uint64_t>(what + " (array length)");
      uint64_t min = min_value_bytes(elem);
      if (min == 0) throw IoError(path, "corrupt GGUF file: " + what + ": unknown array element type " + std::to_string(elem));
      if (n > c.remaining() / min)
        throw IoError(path, "truncated or corrupt GGUF file: " + what + " claims " + std::to_string(n) + " elements, only " +
                                std::to_string(c.remaining()) + " bytes remain");
      json out = json::array();
      out.get_ref<json::array_t&>().reserve(n);
      for (uint64_t i = 0; i < n; ++i) out.push_back(read_value(c, elem, what, path));
      return out;
    }
    default:
      throw IoError(path, "corrupt GGUF file: " + what + ": unknown value type " + std::to_string(type));
  }
}

}  // namespace

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

GgufFile GgufFile::open(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw IoError(path, "cannot open: " + ec.message());
  Cursor c(path, size);
  GgufFile f;
  f.path_ = path;
  char magic[4];
  c.bytes(magic, 4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) throw IoError(path, "not a GGUF file (the first 4 bytes are not \"GGUF\")");
  f.version_ = c.scalar<uint32_t>("version");
  if (f.version_ == 1) throw IoError(path, "GGUF version 1 is not supported (32-bit counts); convert the file with a current llama.cpp");
  if (f.version_ != 2 && f.version_ != 3)
    throw IoError(path, "unsupported GGUF version " + std::to_string(f.version_) + " (supported: 2, 3; a big-endian file reads as a huge version)");
  const uint64_t n_tensors = c.scalar<uint64_t>("tensor count");
  const uint64_t n_kv = c.scalar<uint64_t>("metadata count");
  // Each entry takes at least a length-prefixed name and a type: a bound that
  // rejects garbage counts before any allocation.
  if (n_kv > c.remaining() / 12 || n_tensors > c.remaining() / 24)
    throw IoError(path, "truncated or corrupt GGUF file: header claims " + std::to_string(n_kv) + " metadata entries and " +
                            std::to_string(n_tensors) + " tensors in " + std::to_string(size) + " bytes");
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.string("metadata key #" + std::to_string(i));
    uint32_t type = c.scalar<uint32_t>("type of metadata '" + key + "'");
    if (f.metadata_.contains(key)) throw IoError(path, "corrupt GGUF file: metadata key '" + key + "' appears twice");
    f.metadata_[key] = read_value(c, type, "metadata '" + key + "'", path);
  }
  if (f.metadata_.contains("general.alignment")) {
    const json& a = f.metadata_["general.alignment"];
    if (!a.is_number_unsigned() || a.get<uint64_t>() == 0 || (a.get<uint64_t>() & (a.get<uint64_t>() - 1)) != 0)
      throw IoError(path, "general.alignment: must be a power of two, got " + a.dump());
    f.alignment_ = a.get<uint64_t>();
  }
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.string("name of tensor #" + std::to_string(i));
    const std::string what = "tensor '" + t.name + "'";
    if (!names.insert(t.name).second) throw IoError(path, "corrupt GGUF file: " + what + " appears twice");
    uint32_t n_dims = c.scalar<uint32_t>(what + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      throw IoError(path, "corrupt GGUF file: " + what + " has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = c.scalar<uint64_t>(what + " dimensions");
      if (dim == 0 || dim > (uint64_t(1) << 40) || uint64_t(numel) > (uint64_t(1) << 50) / dim)
        throw IoError(path, "corrupt GGUF file: " + what + " has dimension " + std::to_string(dim));
      numel *= int64_t(dim);
      t.dims.push_back(int64_t(dim));
    }
    t.type = c.scalar<uint32_t>(what + " type");
    t.offset = c.scalar<uint64_t>(what + " offset");
    const GgmlTypeTraits* traits = ggml_type_traits(t.type);
    if (!traits) throw IoError(path, what + ": unknown ggml type id " + std::to_string(t.type));
    if (t.dims[0] % traits->block_size != 0)
      throw IoError(path, what + ": row length " + std::to_string(t.dims[0]) + " is not a multiple of the " + traits->name +
                              " block size " + std::to_string(traits->block_size));
    if (t.offset % f.alignment_ != 0)
      throw IoError(path, "corrupt GGUF file: " + what + " data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                              std::to_string(f.alignment_));
    t.bytes = uint64_t(numel / traits->block_size) * uint64_t(traits->type_size);
    f.tensors_.push_back(std::move(t));
  }
  f.data_offset_ = (c.pos() + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  for (GgufTensorInfo& t : f.tensors_) {
    uint64_t end = f.data_offset_ + t.offset + t.bytes;
    if (t.offset > size || end > size)
      throw IoError(path, "truncated GGUF file: tensor '" + t.name + "' (" + ggml_type_name(t.type) + ", " + std::to_string(t.bytes) +
                              " bytes) ends at byte " + std::to_string(end) + ", file has " + std::to_string(size));
    t.offset += f.data_offset_;
  }
  return f;
}

std::string GgufFile::get_string(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw IoError(path_, "metadata '" + key + "' is missing");
  if (!it->is_string()) throw IoError(path_, "metadata '" + key + "' must be a string, got " + it->dump().substr(0, 80));
  return it->get<std::string>();
}

int64_t GgufFile::get_int(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw IoError(path_, "metadata '" + key + "' is missing");
  if (!it->is_number_integer()) throw IoError(path_, "metadata '" + key + "' must be an integer, got " + it->dump().substr(0, 80));
  return it->get<int64_t>();
}

int64_t GgufFile::get_int(const std::string& key, int64_t fallback) const { return has(key) ? get_int(key) : fallback; }

double GgufFile::get_float(const std::string& key, double fallback) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) return fallback;
  if (!it->is_number()) throw IoError(path_, "metadata '" + key + "' must be a number, got " + it->dump().substr(0, 80));
  return it->get<double>();
}

bool GgufFile::get_bool(const std::string& key, bool fallback) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) return fallback;
  if (!it->is_boolean()) throw IoError(path_, "metadata '" + key + "' must be a bool, got " + it->dump().substr(0, 80));
  return it->get<bool>();
}

const json& GgufFile::get_array(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw IoError(path_, "metadata '" + key + "' is missing");
  if (!it->is_array()) throw IoError(path_, "metadata '" + key + "' must be an array");
  return *it;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

torch::Tensor GgufFile::read_tensor(const std::string& name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (!t) throw IoError(path_, "no tensor '" + name + "' in this GGUF file");
  return read_tensor(*t);
}

torch::Tensor GgufFile::read_tensor(const GgufTensorInfo& t) const {
  if (!ggml_type_supported(t.type))
    throw Error(path_ + ": tensor '" + t.name + "' has ggml type " + ggml_type_name(t.type) + ", which grpo cannot dequantise (supported: " +
                ggml_supported_types() + "); re-quantise the model to one of those with llama.cpp's llama-quantize");
  std::vector<uint8_t> data(t.bytes);
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(t.offset));
  if (!in || !in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(t.bytes)))
    throw IoError(path_, "cannot read the data of tensor '" + t.name + "'");
  return dequantize(t.type, data.data(), t.numel()).reshape(t.torch_shape());
}

}  // namespace grpo::policies
