#include "rollout/weight_sync.h"

#include <cstring>
#include <map>
#include <set>

#include "core/error.h"
#include "core/tensor_codec.h"
#include "policies/causal_lm.h"
#include "rollout/messages.h"

namespace grpo::rollout {

NamedTensors published_tensors(const policies::CausalLM& model, bool bf16_on_wire) {
  NamedTensors out = model.checkpoint_tensors();
  if (!bf16_on_wire) return out;
  std::set<std::string> parameters;
  for (const auto& p : model.named_parameters()) parameters.insert(p.key());
  for (auto& [name, t] : out)
    if (parameters.count(name) && t.is_floating_point()) t = t.detach().to(torch::kBFloat16);
  return out;
}

std::vector<WireMessage> weight_messages(int64_t version, const NamedTensors& tensors, int64_t chunk_bytes) {
  if (chunk_bytes < 1) throw Error("weight_messages: chunk_bytes must be >= 1");
  nlohmann::json metas = nlohmann::json::array();
  std::vector<WireMessage> chunks;
  WireMessage current{msg::kWeightsChunk, {{"version", version}, {"pieces", nlohmann::json::array()}}, {}};
  int64_t current_bytes = 0;
  auto flush = [&] {
    if (current.frames.empty()) return;
    current.fields["index"] = static_cast<int64_t>(chunks.size());
    chunks.push_back(std::move(current));
    current = WireMessage{msg::kWeightsChunk, {{"version", version}, {"pieces", nlohmann::json::array()}}, {}};
    current_bytes = 0;
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    metas.push_back(tensor_meta(tensors[i].first, tensors[i].second));
    std::string bytes = tensor_bytes(tensors[i].second);
    int64_t offset = 0, total = static_cast<int64_t>(bytes.size());
    do {  // empty tensors still send one empty piece, so every tensor is accounted for
      int64_t take = std::min(total - offset, chunk_bytes - current_bytes);
      current.fields["pieces"].push_back({{"tensor", i}, {"offset", offset}});
      current.frames.push_back(bytes.substr(offset, take));
      offset += take;
      current_bytes += take;
      if (current_bytes >= chunk_bytes) flush();
    } while (offset < total);
  }
  flush();
  std::vector<WireMessage> out;
  out.push_back(WireMessage{msg::kWeightsBegin, {{"version", version}, {"tensors", metas}, {"chunks", chunks.size()}}, {}});
  for (auto& c : chunks) out.push_back(std::move(c));
  return out;
}

std::optional<WeightSet> WeightAssembler::feed(const WireMessage& m) {
  if (m.type == msg::kWeightsBegin) return begin(m);
  if (m.type == msg::kWeightsChunk) return chunk(m);
  throw ProtocolError(peer_, m.type, "not a weights message");
}

std::optional<WeightSet> WeightAssembler::begin(const WireMessage& m) {
  int64_t version = msg::get<int64_t>(m.fields, "version", peer_, m.type);
  if (version <= newest_complete_ || version < version_)
    throw ProtocolError(peer_, m.type, "version " + std::to_string(version) + " is older than the one held; ignored");
  auto metas = msg::get<nlohmann::json>(m.fields, "tensors", peer_, m.type);
  int64_t chunks = msg::get<int64_t>(m.fields, "chunks", peer_, m.type);
  if (!metas.is_array() || chunks < 0 || chunks > (int64_t{1} << 24)) throw ProtocolError(peer_, m.type, "bad tensor list or chunk count");
  version_ = -1;  // a malformed list below leaves nothing in progress
  std::vector<std::string> buffers;
  for (const auto& meta : metas) buffers.emplace_back(static_cast<size_t>(meta_byte_size(meta, peer_)), '\0');
  metas_.assign(metas.begin(), metas.end());
  buffers_ = std::move(buffers);
  received_.assign(chunks, false);
  missing_ = chunks;
  version_ = version;
  if (missing_ == 0) return complete();
  return std::nullopt;
}

std::optional<WeightSet> WeightAssembler::chunk(const WireMessage& m) {
  {
    if (version_ < 0) throw ProtocolError(peer_, m.type, "chunk without a weights_begin; ignored");
    int64_t version = msg::get<int64_t>(m.fields, "version", peer_, m.type);
    int64_t index = msg::get<int64_t>(m.fields, "index", peer_, m.type);
    if (version != version_)
      throw ProtocolError(peer_, m.type, "chunk of version " + std::to_string(version) + " while assembling " + std::to_string(version_));
    if (index < 0 || index >= static_cast<int64_t>(received_.size()) || received_[index])
      throw ProtocolError(peer_, m.type, "chunk index " + std::to_string(index) + " is out of range or a duplicate");
    auto pieces = msg::get<nlohmann::json>(m.fields, "pieces", peer_, m.type);
    if (!pieces.is_array() || pieces.size() != m.frames.size()) throw ProtocolError(peer_, m.type, "pieces and frames differ in number");
    // Validate every piece before copying any, so a bad chunk changes nothing.
    for (size_t p = 0; p < pieces.size(); ++p) {
      int64_t t = msg::get<int64_t>(pieces[p], "tensor", peer_, m.type);
      int64_t offset = msg::get<int64_t>(pieces[p], "offset", peer_, m.type);
      if (t < 0 || t >= static_cast<int64_t>(buffers_.size()) || offset < 0 ||
          offset + static_cast<int64_t>(m.frames[p].size()) > static_cast<int64_t>(buffers_[t].size()))
        throw ProtocolError(peer_, m.type, "piece " + std::to_string(p) + " lies outside its tensor");
    }
    for (size_t p = 0; p < pieces.size(); ++p) {
      int64_t t = pieces[p]["tensor"].get<int64_t>(), offset = pieces[p]["offset"].get<int64_t>();
      std::memcpy(buffers_[t].data() + offset, m.frames[p].data(), m.frames[p].size());
    }
    received_[index] = true;
    if (--missing_ > 0) return std::nullopt;
  }
  return complete();
}

WeightSet WeightAssembler::complete() {
  WeightSet set;
  set.version = version_;
  for (size_t i = 0; i < metas_.size(); ++i)
    set.tensors.emplace_back(metas_[i]["name"].get<std::string>(), decode_tensor(metas_[i], buffers_[i], peer_));
  newest_complete_ = version_;
  version_ = -1;
  metas_.clear();
  buffers_.clear();
  return set;
}

void apply_weights(policies::CausalLM& model, const WeightSet& weights) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : model.named_parameters()) targets[p.key()] = p.value();
  for (const auto& b : model.named_buffers()) targets[b.key()] = b.value();
  std::string problems;
  std::map<std::string, bool> seen;
  for (const auto& [name, t] : weights.tensors) {
    auto it = targets.find(name);
    if (it == targets.end()) problems += " unexpected tensor " + name + ";";
    else if (it->second.sizes() != t.sizes()) problems += " " + name + " has shape " + c10::str(t.sizes()) + ", model has " + c10::str(it->second.sizes()) + ";";
    else if (it->second.scalar_type() != t.scalar_type() && !(it->second.is_floating_point() && t.is_floating_point()))
      problems += " " + name + " has dtype " + c10::toString(t.scalar_type()) + ", model has " + c10::toString(it->second.scalar_type()) + ";";
    seen[name] = true;
  }
  for (const auto& p : model.named_parameters())
    if (!seen.count(p.key())) problems += " missing parameter " + p.key() + ";";
  if (!problems.empty())
    throw Error("weights version " + std::to_string(weights.version) + " do not fit the model:" + problems.substr(0, 600));
  for (const auto& [name, t] : weights.tensors) targets[name].copy_(t);  // bf16 on the wire: back to the model's dtype
}

}  // namespace grpo::rollout
