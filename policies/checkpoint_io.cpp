// checkpoint_io.cpp: CausalLM::load and CausalLM::save_hf (Hugging Face layout).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/placement.h"
#include "policies/safetensors.h"

namespace grpo::policies {

namespace fs = std::filesystem;

namespace {

std::string shape_str(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

// Tensors HF itself ignores when loading: MTP layers (unless requested),
// cached rotary tables of old checkpoints, and a tied lm_head copy.
bool ignorable(const std::string& name, const ModelConfig& c, bool with_mtp) {
  static const std::regex layer_re(R"(^model\.layers\.(\d+)\.)");
  std::smatch m;
  if (std::regex_search(name, m, layer_re) && std::stoll(m[1].str()) >= c.num_hidden_layers && !with_mtp) return true;
  if (name.find("rotary_emb.inv_freq") != std::string::npos) return true;
  if (name == "lm_head.weight" && c.tie_word_embeddings) return true;
  return false;
}

std::string list(const std::vector<std::string>& items, size_t max_items = 20) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size() - max_items) + " more)";
  return out;
}

// generation_config.json's eos_token_id wins over config.json's, as in HF
// generate: instruct checkpoints list their end-of-turn token only there.
void apply_generation_config(const std::string& dir, ModelConfig& config) {
  fs::path path = fs::path(dir) / "generation_config.json";
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw IoError(path.string(), "not a JSON object");
  if (!j.contains("eos_token_id") || j["eos_token_id"].is_null()) return;
  const nlohmann::json& e = j["eos_token_id"];
  std::vector<int64_t> ids;
  if (e.is_number_integer()) ids = {e.get<int64_t>()};
  else if (e.is_array() && std::all_of(e.begin(), e.end(), [](const auto& x) { return x.is_number_integer(); }))
    ids = e.get<std::vector<int64_t>>();
  else
    throw IoError(path.string(), "eos_token_id must be an integer or a list of integers, got " + e.dump());
  for (int64_t id : ids)
    if (id < 0 || id >= config.vocab_size)
      throw IoError(path.string(), "eos_token_id " + std::to_string(id) + " is outside the vocabulary (vocab_size " +
                                       std::to_string(config.vocab_size) + ")");
  config.eos_token_ids = ids;
}

}  // namespace

std::shared_ptr<CausalLM> CausalLM::load(const std::string& dir, const LoadOptions& options) {
  ModelConfig config = ModelConfig::from_file((fs::path(dir) / "config.json").string());
  apply_generation_config(dir, config);
  return from_tensors(config, read_checkpoint_tensors(dir, /*keep_dtype=*/false), options, dir);
}

std::shared_ptr<CausalLM> CausalLM::from_tensors(const ModelConfig& config, const std::map<std::string, torch::Tensor>& tensors,
                                                 const LoadOptions& options, const std::string& origin) {
  auto model = std::make_shared<CausalLM>(config, options.with_mtp);
  std::vector<std::string> missing, unexpected, misshaped;
  std::map<std::string, torch::Tensor> expected;
  for (auto& [name, t] : model->checkpoint_tensors()) expected.emplace(name, t);
  for (auto& [name, t] : expected) {
    auto it = tensors.find(name);
    if (it == tensors.end()) missing.push_back(name);
    else if (it->second.sizes() != t.sizes())
      misshaped.push_back(name + " (file " + shape_str(it->second.sizes()) + ", model " + shape_str(t.sizes()) + ")");
  }
  for (auto& [name, t] : tensors)
    if (!expected.count(name) && !ignorable(name, config, model->has_mtp())) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::string msg = "tensors do not match the config (" + config.model_type + ")";
    if (!missing.empty()) msg += "; missing " + std::to_string(missing.size()) + " tensor(s): " + list(missing);
    if (!unexpected.empty()) msg += "; unexpected " + std::to_string(unexpected.size()) + " tensor(s): " + list(unexpected);
    if (!misshaped.empty()) msg += "; wrong shape: " + list(misshaped);
    throw IoError(origin, msg);
  }
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : expected) t.copy_(tensors.at(name));
  }
  place_model(*model, options.device, options.dtype);
  return model;
}

void CausalLM::save_hf(const std::string& dir, const SaveOptions& options) const {
  fs::create_directories(dir);
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, t] : checkpoint_tensors()) {
    torch::Tensor v = t.detach().to(torch::kCPU);
    bool keep_f32 = name.find("e_score_correction_bias") != std::string::npos;
    if (v.is_floating_point() && !keep_f32) v = v.to(options.dtype);
    out.emplace(name, v.contiguous());
  }
  write_checkpoint_tensors(dir, out, options.max_shard_bytes);
  ModelConfig c = config_;
  if (!has_mtp_) c.num_nextn_predict_layers = 0;  // the layers are not written
  c.torch_dtype = options.dtype == torch::kBFloat16 ? "bfloat16" : options.dtype == torch::kHalf ? "float16" : "float32";
  {
    std::ofstream f(fs::path(dir) / "config.json");
    f << c.to_json() << "\n";
    if (!f) throw IoError(dir, "cannot write config.json");
  }
  nlohmann::json gen = {{"_from_model_config", true}};
  if (c.bos_token_id >= 0) gen["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1) gen["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty()) gen["eos_token_id"] = c.eos_token_ids;
  std::ofstream g(fs::path(dir) / "generation_config.json");
  g << gen.dump(2) << "\n";
}

}  // namespace grpo::policies
