// model_config.cpp: HF config.json <-> ModelConfig, presets, parameter counts.
#include "policies/model_config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace grpo::policies {

using nlohmann::json;

namespace {

template <class T>
void read(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) out = it->get<T>();
}

double yarn_mscale(double factor, double m) { return factor <= 1.0 ? 1.0 : 0.1 * m * std::log(factor) + 1.0; }

RopeScaling parse_rope(const json& r, const ModelConfig& c, const std::string& origin) {
  RopeScaling s;
  if (r.is_null() || !r.is_object()) return s;
  std::string type;
  read(r, "rope_type", type);
  if (type.empty()) read(r, "type", type);
  if (type == "default") type.clear();
  s.type = type;
  read(r, "factor", s.factor);
  read(r, "original_max_position_embeddings", s.original_max_position_embeddings);
  read(r, "beta_fast", s.beta_fast);
  read(r, "beta_slow", s.beta_slow);
  read(r, "mscale", s.mscale);
  read(r, "mscale_all_dim", s.mscale_all_dim);
  read(r, "attention_factor", s.attention_factor);
  read(r, "low_freq_factor", s.low_freq_factor);
  read(r, "high_freq_factor", s.high_freq_factor);
  if (!type.empty() && type != "yarn" && type != "llama3" && type != "linear")
    throw ConfigError(origin, "rope_scaling.type", "unsupported RoPE scaling '" + type + "' (supported: yarn, llama3, linear)");
  if (type == "yarn" && !r.contains("factor") && s.original_max_position_embeddings > 0)
    s.factor = double(c.max_position_embeddings) / double(s.original_max_position_embeddings);
  return s;
}

}  // namespace

double ModelConfig::attention_scale() const {
  double d = is_mla() ? double(qk_head_dim()) : double(dense_head_dim());
  double scale = 1.0 / std::sqrt(d);
  // HF (yarn_apply_mscale): applied whenever rope_scaling has mscale_all_dim.
  if (rope_scaling.type == "yarn" && rope_scaling.mscale_all_dim != 0.0) {
    double m = yarn_mscale(rope_scaling.factor, rope_scaling.mscale_all_dim);
    scale *= m * m;
  }
  return scale;
}

ModelConfig ModelConfig::from_json(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw ConfigError(origin, "", std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw ConfigError(origin, "", "expected a JSON object");
  ModelConfig c;
  try {
    read(j, "model_type", c.model_type);
    if (c.model_type != "deepseek_v3" && c.model_type != "deepseek_v2" && c.model_type != "qwen2" && c.model_type != "llama")
      throw ConfigError(origin, "model_type", "unsupported model_type '" + c.model_type + "' (supported: deepseek_v3, deepseek_v2, qwen2, llama)");
    bool ds = c.model_type.rfind("deepseek", 0) == 0;
    if (ds) {
      c.norm_topk_prob = c.model_type == "deepseek_v3";
      c.scoring_func = c.model_type == "deepseek_v3" ? "sigmoid" : "softmax";
      c.topk_method = c.model_type == "deepseek_v3" ? "noaux_tc" : "greedy";
    }
    read(j, "vocab_size", c.vocab_size);
    read(j, "hidden_size", c.hidden_size);
    read(j, "intermediate_size", c.intermediate_size);
    read(j, "num_hidden_layers", c.num_hidden_layers);
    read(j, "num_attention_heads", c.num_attention_heads);
    c.num_key_value_heads = c.num_attention_heads;
    read(j, "num_key_value_heads", c.num_key_value_heads);
    if (!ds) read(j, "head_dim", c.head_dim);
    read(j, "max_position_embeddings", c.max_position_embeddings);
    read(j, "rms_norm_eps", c.rms_norm_eps);
    read(j, "tie_word_embeddings", c.tie_word_embeddings);
    read(j, "attention_bias", c.attention_bias);
    read(j, "mlp_bias", c.mlp_bias);
    read(j, "hidden_act", c.hidden_act);
    read(j, "initializer_range", c.initializer_range);
    read(j, "q_lora_rank", c.q_lora_rank);
    read(j, "kv_lora_rank", c.kv_lora_rank);
    read(j, "qk_nope_head_dim", c.qk_nope_head_dim);
    read(j, "qk_rope_head_dim", c.qk_rope_head_dim);
    read(j, "v_head_dim", c.v_head_dim);
    read(j, "rope_interleave", c.rope_interleave);
    read(j, "moe_intermediate_size", c.moe_intermediate_size);
    read(j, "n_routed_experts", c.n_routed_experts);
    read(j, "n_shared_experts", c.n_shared_experts);
    read(j, "num_experts_per_tok", c.num_experts_per_tok);
    read(j, "n_group", c.n_group);
    read(j, "topk_group", c.topk_group);
    read(j, "first_k_dense_replace", c.first_k_dense_replace);
    read(j, "moe_layer_freq", c.moe_layer_freq);
    read(j, "routed_scaling_factor", c.routed_scaling_factor);
    read(j, "norm_topk_prob", c.norm_topk_prob);
    read(j, "scoring_func", c.scoring_func);
    read(j, "topk_method", c.topk_method);
    read(j, "num_nextn_predict_layers", c.num_nextn_predict_layers);
    read(j, "bos_token_id", c.bos_token_id);
    read(j, "pad_token_id", c.pad_token_id);
    read(j, "torch_dtype", c.torch_dtype);
    if (j.contains("dtype") && j["dtype"].is_string()) c.torch_dtype = j["dtype"].get<std::string>();
    if (j.contains("eos_token_id")) {
      const json& e = j["eos_token_id"];
      if (e.is_number_integer()) c.eos_token_ids = {e.get<int64_t>()};
      else if (e.is_array()) c.eos_token_ids = e.get<std::vector<int64_t>>();
    }
    // rope: old spelling (rope_theta + rope_scaling) or new (rope_parameters).
    read(j, "rope_theta", c.rope_theta);
    const json* rope = nullptr;
    if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) rope = &j["rope_scaling"];
    if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
      rope = &j["rope_parameters"];
      read(*rope, "rope_theta", c.rope_theta);
    }
    if (rope) c.rope_scaling = parse_rope(*rope, c, origin);
  } catch (const json::exception& e) {
    throw ConfigError(origin, "", std::string("field of the wrong type: ") + e.what());
  }
  static const char* known[] = {"model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings",
                                "rms_norm_eps", "tie_word_embeddings", "attention_bias", "mlp_bias", "hidden_act",
                                "initializer_range", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim",
                                "qk_rope_head_dim", "v_head_dim", "rope_interleave", "moe_intermediate_size",
                                "n_routed_experts", "n_shared_experts", "num_experts_per_tok", "n_group", "topk_group",
                                "first_k_dense_replace", "moe_layer_freq", "routed_scaling_factor", "norm_topk_prob",
                                "scoring_func", "topk_method", "num_nextn_predict_layers", "bos_token_id",
                                "pad_token_id", "eos_token_id", "torch_dtype", "dtype", "rope_theta", "rope_scaling",
                                "rope_parameters", "architectures"};
  json extra = json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool is_known = false;
    for (const char* k : known) is_known = is_known || it.key() == k;
    if (!is_known) extra[it.key()] = it.value();
  }
  c.extra_json = extra.dump();
  c.validate(origin);
  return c;
}

ModelConfig ModelConfig::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open (a checkpoint directory needs config.json)");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), path);
}

std::string ModelConfig::to_json() const {
  json j = json::parse(extra_json.empty() ? "{}" : extra_json);
  bool ds = model_type.rfind("deepseek", 0) == 0;
  if (model_type == "deepseek_v3") j["architectures"] = {"DeepseekV3ForCausalLM"};
  else if (model_type == "deepseek_v2") j["architectures"] = {"DeepseekV2ForCausalLM"};
  else if (model_type == "qwen2") j["architectures"] = {"Qwen2ForCausalLM"};
  else j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = model_type;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  if (!ds && head_dim > 0) j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["hidden_act"] = hidden_act;
  j["initializer_range"] = initializer_range;
  if (model_type != "qwen2") j["attention_bias"] = attention_bias;
  if (model_type == "llama") j["mlp_bias"] = mlp_bias;
  if (rope_scaling.type.empty()) {
    j["rope_scaling"] = nullptr;
  } else {
    json r;
    r["type"] = rope_scaling.type;
    r["rope_type"] = rope_scaling.type;
    r["factor"] = rope_scaling.factor;
    if (rope_scaling.original_max_position_embeddings > 0)
      r["original_max_position_embeddings"] = rope_scaling.original_max_position_embeddings;
    if (rope_scaling.type == "yarn") {
      r["beta_fast"] = rope_scaling.beta_fast;
      r["beta_slow"] = rope_scaling.beta_slow;
      r["mscale"] = rope_scaling.mscale;
      r["mscale_all_dim"] = rope_scaling.mscale_all_dim;
      if (rope_scaling.attention_factor >= 0) r["attention_factor"] = rope_scaling.attention_factor;
    }
    if (rope_scaling.type == "llama3") {
      r["low_freq_factor"] = rope_scaling.low_freq_factor;
      r["high_freq_factor"] = rope_scaling.high_freq_factor;
    }
    j["rope_scaling"] = r;
  }
  if (ds) {
    j["q_lora_rank"] = q_lora_rank > 0 ? json(q_lora_rank) : json(nullptr);
    j["kv_lora_rank"] = kv_lora_rank;
    j["qk_nope_head_dim"] = qk_nope_head_dim;
    j["qk_rope_head_dim"] = qk_rope_head_dim;
    j["v_head_dim"] = v_head_dim;
    j["rope_interleave"] = rope_interleave;
    j["moe_intermediate_size"] = moe_intermediate_size;
    j["n_routed_experts"] = n_routed_experts;
    j["n_shared_experts"] = n_shared_experts;
    j["num_experts_per_tok"] = num_experts_per_tok;
    j["n_group"] = n_group;
    j["topk_group"] = topk_group;
    j["first_k_dense_replace"] = first_k_dense_replace;
    j["moe_layer_freq"] = moe_layer_freq;
    j["routed_scaling_factor"] = routed_scaling_factor;
    j["norm_topk_prob"] = norm_topk_prob;
    j["scoring_func"] = scoring_func;
    j["topk_method"] = topk_method;
    j["num_nextn_predict_layers"] = num_nextn_predict_layers;
  }
  if (bos_token_id >= 0) j["bos_token_id"] = bos_token_id;
  if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  else if (!eos_token_ids.empty()) j["eos_token_id"] = eos_token_ids;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  j["torch_dtype"] = torch_dtype;
  return j.dump(2);
}

void ModelConfig::validate(const std::string& origin) const {
  auto need = [&](bool ok, const char* key, const std::string& msg) {
    if (!ok) throw ConfigError(origin, key, msg);
  };
  need(vocab_size > 0, "vocab_size", "must be > 0");
  need(hidden_size > 0, "hidden_size", "must be > 0");
  need(num_hidden_layers > 0, "num_hidden_layers", "must be > 0");
  need(num_attention_heads > 0, "num_attention_heads", "must be > 0");
  need(hidden_act == "silu", "hidden_act", "only silu is supported, got " + hidden_act);
  if (is_mla()) {
    need(qk_rope_head_dim > 0 && qk_rope_head_dim % 2 == 0, "qk_rope_head_dim", "must be even and > 0 (RoPE rotates pairs)");
    need(qk_nope_head_dim > 0, "qk_nope_head_dim", "must be > 0");
    need(v_head_dim > 0, "v_head_dim", "must be > 0");
  } else {
    need(num_key_value_heads > 0 && num_attention_heads % num_key_value_heads == 0, "num_key_value_heads",
         "num_attention_heads must be a multiple of num_key_value_heads");
    need(head_dim > 0 || hidden_size % num_attention_heads == 0, "head_dim", "hidden_size must divide by num_attention_heads when head_dim is absent");
    need(dense_head_dim() % 2 == 0, "head_dim", "must be even (RoPE rotates pairs)");
  }
  if (n_routed_experts > 0) {
    need(num_experts_per_tok > 0 && num_experts_per_tok <= n_routed_experts, "num_experts_per_tok", "must be in [1, n_routed_experts]");
    need(n_group > 0 && n_routed_experts % n_group == 0, "n_group", "n_routed_experts must divide by n_group");
    need(topk_group > 0 && topk_group <= n_group, "topk_group", "must be in [1, n_group]");
    need(moe_layer_freq > 0, "moe_layer_freq", "must be > 0");
    need(moe_intermediate_size > 0, "moe_intermediate_size", "must be > 0");
    need(scoring_func == "sigmoid" || scoring_func == "softmax", "scoring_func", "must be sigmoid or softmax");
    need(n_group == 1 || (n_routed_experts / n_group) >= 2, "n_group", "each group needs >= 2 experts (group score = sum of top-2)");
  }
}

namespace {

int64_t mlp_params(int64_t d, int64_t i) { return 3 * d * i; }

int64_t attn_params(const ModelConfig& c) {
  int64_t d = c.hidden_size, h = c.num_attention_heads;
  if (c.is_mla()) {
    int64_t p = 0;
    if (c.q_lora_rank > 0) p += d * c.q_lora_rank + c.q_lora_rank + c.q_lora_rank * h * c.qk_head_dim();
    else p += d * h * c.qk_head_dim();
    p += d * (c.kv_lora_rank + c.qk_rope_head_dim) + c.kv_lora_rank;
    p += c.kv_lora_rank * h * (c.qk_nope_head_dim + c.v_head_dim);
    p += h * c.v_head_dim * d;
    return p;
  }
  int64_t hd = c.dense_head_dim(), kv = c.num_key_value_heads;
  int64_t p = d * h * hd + 2 * d * kv * hd + h * hd * d;
  if (c.has_qkv_bias()) p += h * hd + 2 * kv * hd;
  return p;
}

int64_t layer_params(const ModelConfig& c, int64_t l, bool active) {
  int64_t p = 2 * c.hidden_size + attn_params(c);
  if (c.is_moe_layer(l)) {
    int64_t routed = active ? c.num_experts_per_tok : c.n_routed_experts;
    p += c.n_routed_experts * c.hidden_size;  // router
    p += (routed + c.n_shared_experts) * mlp_params(c.hidden_size, c.moe_intermediate_size);
  } else {
    p += mlp_params(c.hidden_size, c.intermediate_size);
  }
  return p;
}

}  // namespace

int64_t ModelConfig::total_parameters() const {
  int64_t p = vocab_size * hidden_size * (tie_word_embeddings ? 1 : 2) + hidden_size;
  for (int64_t l = 0; l < num_hidden_layers; ++l) p += layer_params(*this, l, false);
  return p;
}

int64_t ModelConfig::active_parameters_per_token() const {
  int64_t p = vocab_size * hidden_size * (tie_word_embeddings ? 1 : 2) + hidden_size;
  for (int64_t l = 0; l < num_hidden_layers; ++l) p += layer_params(*this, l, true);
  return p;
}

int64_t ModelConfig::kv_values_per_token_per_layer() const {
  if (is_mla()) return kv_lora_rank + qk_rope_head_dim;
  return 2 * num_key_value_heads * dense_head_dim();
}

int64_t ModelConfig::kv_bytes_per_token(int64_t dtype_bytes) const {
  return kv_values_per_token_per_layer() * num_hidden_layers * dtype_bytes;
}

std::vector<std::string> ModelConfig::preset_names() { return {"tiny", "small", "base50m"}; }

ModelConfig ModelConfig::preset(const std::string& arch, const std::string& preset) {
  ModelConfig c;
  int size = preset == "tiny" ? 0 : preset == "small" ? 1 : preset == "base50m" ? 2 : -1;
  if (size < 0) throw ConfigError("", "preset", "unknown preset '" + preset + "' (tiny, small, base50m)");
  c.bos_token_id = 0;
  c.eos_token_ids = {1};
  if (arch == "deepseek_v3") {
    c.model_type = "deepseek_v3";
    const int64_t D[] = {64, 256, 512}, L[] = {3, 4, 8}, H[] = {4, 8, 8}, E[] = {16, 16, 32};
    c.vocab_size = size == 0 ? 512 : 32000;
    c.hidden_size = D[size];
    c.num_hidden_layers = L[size];
    c.num_attention_heads = c.num_key_value_heads = H[size];
    c.intermediate_size = 2 * D[size];
    c.moe_intermediate_size = D[size] / 2;
    c.q_lora_rank = D[size] * 3 / 4;
    c.kv_lora_rank = D[size] / 2;
    c.qk_nope_head_dim = size == 0 ? 16 : 32;
    c.qk_rope_head_dim = size == 0 ? 8 : 16;
    c.v_head_dim = size == 0 ? 16 : 32;
    c.n_routed_experts = E[size];
    c.n_shared_experts = 1;
    c.num_experts_per_tok = 4;
    c.n_group = 4;
    c.topk_group = 2;
    c.first_k_dense_replace = 1;
    c.routed_scaling_factor = 2.5;
    c.norm_topk_prob = true;
    c.max_position_embeddings = size == 0 ? 512 : 4096;
    c.rope_scaling.type = "yarn";
    c.rope_scaling.factor = 4.0;
    c.rope_scaling.original_max_position_embeddings = c.max_position_embeddings / 4;
    c.rope_scaling.mscale = 1.0;
    c.rope_scaling.mscale_all_dim = 1.0;
  } else if (arch == "qwen2" || arch == "llama") {
    c.model_type = arch;
    const int64_t D[] = {64, 256, 512}, L[] = {2, 4, 12}, H[] = {4, 8, 8};
    c.vocab_size = size == 0 ? 512 : 32000;
    c.hidden_size = D[size];
    c.num_hidden_layers = L[size];
    c.num_attention_heads = H[size];
    c.num_key_value_heads = 2;
    c.head_dim = D[size] / H[size];
    c.intermediate_size = 3 * D[size];
    c.tie_word_embeddings = arch == "qwen2";
    c.max_position_embeddings = 4096;
    if (arch == "llama") {
      c.rope_theta = 500000.0;
      c.rms_norm_eps = 1e-5;
      c.rope_scaling.type = "llama3";
      c.rope_scaling.factor = 8.0;
      c.rope_scaling.original_max_position_embeddings = 512;
    } else {
      c.rope_theta = 1000000.0;
    }
  } else {
    throw ConfigError("", "arch", "unknown architecture '" + arch + "' (deepseek_v3, qwen2, llama)");
  }
  c.validate("preset " + arch + "/" + preset);
  return c;
}

}  // namespace grpo::policies
