// safetensors.cpp: the safetensors reader/writer and HF checkpoint layouts.
#include "policies/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"

namespace grpo::policies {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxHeaderBytes = 100000000;  // the reference reader's limit

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};
const DtypeName kDtypes[] = {
    {"F32", torch::kFloat}, {"F16", torch::kHalf},  {"BF16", torch::kBFloat16}, {"F64", torch::kDouble},
    {"I64", torch::kLong},  {"I32", torch::kInt},   {"I16", torch::kShort},     {"I8", torch::kChar},
    {"U8", torch::kByte},   {"BOOL", torch::kBool},
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0);
  std::string data(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(data.data(), size)) throw IoError(path, "read failed");
  return data;
}

}  // namespace

torch::ScalarType safetensors_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  throw Error("unknown or unsupported safetensors dtype '" + name + "' (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
}

std::string safetensors_dtype_name(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d.name;
  throw Error(std::string("no safetensors dtype for ") + c10::toString(type));
}

// Reads the header, then each tensor straight from the file into its own
// storage: the file is never held in memory beside the tensors (a whole-file
// buffer doubled the loading peak).
std::map<std::string, torch::Tensor> read_safetensors(const std::string& path, bool keep_dtype) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) throw IoError(path, "truncated safetensors file (" + std::to_string(file_size) + " bytes, no header length)");
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n > kMaxHeaderBytes) throw IoError(path, "bad safetensors header: length " + std::to_string(n) + " exceeds 100 MB (not a safetensors file?)");
  if (8 + n > file_size)
    throw IoError(path, "truncated safetensors file: header needs " + std::to_string(8 + n) + " bytes, file has " + std::to_string(file_size));
  std::string header_text(static_cast<size_t>(n), '\0');
  if (!in.read(header_text.data(), static_cast<std::streamsize>(n))) throw IoError(path, "read failed");
  json header;
  try {
    header = json::parse(header_text);
  } catch (const std::exception& e) {
    throw IoError(path, std::string("bad safetensors header: not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw IoError(path, "bad safetensors header: not a JSON object");
  const uint64_t buffer_size = file_size - 8 - n;
  struct Entry {
    std::string name;
    torch::ScalarType type;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const json& t = it.value();
    Entry e;
    e.name = it.key();
    try {
      std::string dtype = t.at("dtype").get<std::string>();
      try {
        e.type = safetensors_dtype(dtype);
      } catch (const Error& err) {
        throw IoError(path, "tensor '" + e.name + "': " + err.what());
      }
      e.shape = t.at("shape").get<std::vector<int64_t>>();
      auto off = t.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2) throw IoError(path, "tensor '" + e.name + "': data_offsets must have 2 entries");
      e.begin = off[0];
      e.end = off[1];
    } catch (const json::exception& ex) {
      throw IoError(path, "bad safetensors header entry for tensor '" + e.name + "': " + ex.what());
    }
    int64_t numel = 1;
    for (int64_t s : e.shape) {
      if (s < 0) throw IoError(path, "tensor '" + e.name + "': negative dimension");
      numel *= s;
    }
    uint64_t bytes = uint64_t(numel) * c10::elementSize(e.type);
    if (e.end < e.begin || e.end - e.begin != bytes)
      throw IoError(path, "tensor '" + e.name + "': data_offsets span " + std::to_string(e.end - e.begin) + " bytes but shape x dtype needs " + std::to_string(bytes));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
  uint64_t expected = 0;
  for (const Entry& e : entries) {
    if (e.begin != expected)
      throw IoError(path, "tensor '" + e.name + "': data_offsets start at " + std::to_string(e.begin) + ", expected " +
                              std::to_string(expected) + " (overlapping or holey offsets)");
    expected = e.end;
  }
  if (expected != buffer_size)
    throw IoError(path, expected > buffer_size ? "truncated safetensors file: tensors need " + std::to_string(expected) +
                                                     " data bytes, file has " + std::to_string(buffer_size)
                                               : "safetensors file has " + std::to_string(buffer_size - expected) + " trailing bytes after the last tensor");
  std::map<std::string, torch::Tensor> out;
  for (const Entry& e : entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.type));
    if (e.end > e.begin) {
      in.seekg(static_cast<std::streamoff>(8 + n + e.begin));
      if (!in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin))) throw IoError(path, "read failed");
    }
    if (!keep_dtype && t.is_floating_point() && t.scalar_type() != torch::kFloat) t = t.to(torch::kFloat);
    out.emplace(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors) {
  json header = json::object();
  header["__metadata__"] = {{"format", "pt"}};
  // Largest element size first, then by name: every tensor starts aligned.
  std::vector<std::pair<std::string, torch::Tensor>> order;
  for (const auto& [name, t] : tensors) order.emplace_back(name, t.detach().to(torch::kCPU).contiguous());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second.element_size() > b.second.element_size();
  });
  uint64_t offset = 0;
  for (const auto& [name, t] : order) {
    uint64_t bytes = t.numel() * t.element_size();
    header[name] = {{"dtype", safetensors_dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError(path, "cannot create");
  uint64_t n = text.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out.write(len, 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& [name, t] : order)
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  if (!out) throw IoError(path, "write failed (disk full?)");
}

std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::string& dir, bool keep_dtype) {
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  fs::path single = fs::path(dir) / "model.safetensors";
  if (fs::exists(index)) {
    json j;
    try {
      j = json::parse(read_all(index.string()));
    } catch (const json::exception& e) {
      throw IoError(index.string(), std::string("not valid JSON: ") + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) throw IoError(index.string(), "missing \"weight_map\" object");
    std::map<std::string, std::set<std::string>> by_file;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) by_file[it.value().get<std::string>()].insert(it.key());
    std::map<std::string, torch::Tensor> out;
    for (const auto& [file, names] : by_file) {
      std::string shard = (fs::path(dir) / file).string();
      if (!fs::exists(shard)) throw IoError(shard, "shard named by model.safetensors.index.json does not exist");
      auto tensors = read_safetensors(shard, keep_dtype);
      for (auto& [name, t] : tensors) {
        if (!names.count(name)) continue;  // present in the shard but mapped elsewhere: ignore like HF
        if (out.count(name)) throw IoError(shard, "tensor '" + name + "' appears in more than one shard");
        out.emplace(name, std::move(t));
      }
      for (const std::string& name : names)
        if (!out.count(name)) throw IoError(shard, "tensor '" + name + "' is listed in the index but not in this shard");
    }
    return out;
  }
  if (fs::exists(single)) return read_safetensors(single.string(), keep_dtype);
  throw IoError(dir, "no model.safetensors or model.safetensors.index.json in the checkpoint directory");
}

void write_checkpoint_tensors(const std::string& dir, const std::map<std::string, torch::Tensor>& tensors, int64_t max_shard_bytes) {
  fs::create_directories(dir);
  int64_t total = 0;
  for (const auto& [name, t] : tensors) total += t.numel() * t.element_size();
  if (max_shard_bytes <= 0 || total <= max_shard_bytes) {
    write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
    return;
  }
  std::vector<std::map<std::string, torch::Tensor>> shards(1);
  int64_t in_shard = 0;
  for (const auto& [name, t] : tensors) {
    int64_t bytes = t.numel() * t.element_size();
    if (in_shard > 0 && in_shard + bytes > max_shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().emplace(name, t);
    in_shard += bytes;
  }
  json weight_map = json::object();
  char buf[64];
  for (size_t i = 0; i < shards.size(); ++i) {
    std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_safetensors((fs::path(dir) / buf).string(), shards[i]);
    for (const auto& [name, t] : shards[i]) weight_map[name] = buf;
  }
  json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::ofstream out(fs::path(dir) / "model.safetensors.index.json");
  out << index.dump(2) << "\n";
  if (!out) throw IoError(dir, "cannot write model.safetensors.index.json");
}

}  // namespace grpo::policies
