// `grpo model init|info|import-gguf`: write a randomly initialised HF
// checkpoint, describe a checkpoint (parameters, active parameters per token,
// experts, KV-cache bytes per token), and convert a Llama GGUF file into one.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "policies/causal_lm.h"
#include "policies/gguf_import.h"
#include "policies/model_config.h"

namespace grpo::cli {

namespace {

std::string millions(int64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld (%.2fM)", static_cast<long long>(n), double(n) / 1e6);
  return buf;
}

std::string describe(const policies::ModelConfig& c) {
  std::ostringstream out;
  out << "model_type: " << c.model_type << "\n";
  out << "layers: " << c.num_hidden_layers << "  hidden: " << c.hidden_size << "  heads: " << c.num_attention_heads
      << "  vocab: " << c.vocab_size << "\n";
  if (c.is_mla()) {
    out << "attention: MLA (q_lora_rank " << (c.q_lora_rank > 0 ? std::to_string(c.q_lora_rank) : "none") << ", kv_lora_rank "
        << c.kv_lora_rank << ", qk_nope " << c.qk_nope_head_dim << ", qk_rope " << c.qk_rope_head_dim << ", v " << c.v_head_dim << ")\n";
  } else {
    out << "attention: GQA (" << c.num_key_value_heads << " kv heads, head_dim " << c.dense_head_dim()
        << (c.has_qkv_bias() ? ", qkv bias" : "") << ")\n";
  }
  if (c.n_routed_experts > 0) {
    int64_t moe_layers = 0;
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) moe_layers += c.is_moe_layer(l) ? 1 : 0;
    out << "experts: " << c.n_routed_experts << " routed (top " << c.num_experts_per_tok << ", " << c.n_group
        << " groups, top " << c.topk_group << " groups) + " << c.n_shared_experts << " shared, in " << moe_layers
        << " MoE layers (" << c.first_k_dense_replace << " dense first)\n";
    if (c.num_nextn_predict_layers > 0) out << "mtp modules: " << c.num_nextn_predict_layers << "\n";
  } else {
    out << "experts: none (dense)\n";
  }
  out << "rope: theta " << c.rope_theta << (c.rope_scaling.type.empty() ? "" : ", " + c.rope_scaling.type + " x" + std::to_string(c.rope_scaling.factor)) << "\n";
  out << "parameters total: " << millions(c.total_parameters()) << "\n";
  out << "parameters active per token: " << millions(c.active_parameters_per_token()) << "\n";
  out << "kv cache bytes per token: " << c.kv_bytes_per_token(2) << " (bf16), " << c.kv_bytes_per_token(4) << " (fp32); "
      << c.kv_values_per_token_per_layer() << " values per layer";
  if (c.is_mla()) {
    int64_t mha = 2 * c.num_attention_heads * c.v_head_dim;
    out << " (standard attention with the same heads: " << mha << ", " << mha * c.num_hidden_layers * 2 << " bytes bf16)";
  }
  out << "\n";
  return out.str();
}

torch::ScalarType dtype_of(const std::string& name) {
  return name == "bfloat16" ? torch::kBFloat16 : name == "float16" ? torch::kHalf : torch::kFloat;
}

}  // namespace

void add_model_command(CLI::App& root) {
  CLI::App* model = root.add_subcommand("model", "Create and inspect policy checkpoints (Hugging Face layout)");
  model->require_subcommand(1);

  struct Args {
    std::string arch, preset = "tiny", out, dir, dtype = "float32", gguf;
    uint64_t seed = 0;
    int64_t vocab_size = 0;
    bool mtp = false;
  };
  auto args = std::make_shared<Args>();

  CLI::App* init = model->add_subcommand("init", "Write a randomly initialised checkpoint (config.json + model.safetensors)");
  init->add_option("--arch", args->arch, "Architecture")->required()->check(CLI::IsMember({"deepseek_v3", "qwen2", "llama"}));
  init->add_option("--preset", args->preset, "Size preset")->capture_default_str()->check(CLI::IsMember(policies::ModelConfig::preset_names()));
  init->add_option("--out", args->out, "Output directory")->required();
  init->add_option("--seed", args->seed, "Initialisation seed")->capture_default_str();
  init->add_option("--vocab-size", args->vocab_size, "Override the preset's vocabulary size (match your tokenizer)");
  init->add_option("--dtype", args->dtype, "On-disk dtype")->capture_default_str()->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
  init->add_flag("--mtp", args->mtp, "deepseek_v3: add one multi-token-prediction module");
  init->callback([args] {
    policies::ModelConfig c = policies::ModelConfig::preset(args->arch, args->preset);
    if (args->vocab_size > 0) c.vocab_size = args->vocab_size;
    if (args->mtp) c.num_nextn_predict_layers = 1;
    auto m = policies::CausalLM::create(c, args->seed, args->mtp);
    policies::SaveOptions o;
    o.dtype = dtype_of(args->dtype);
    m->save_hf(args->out, o);
    std::cout << "wrote " << args->out << "\n" << describe(c);
  });

  CLI::App* info = model->add_subcommand("info", "Describe a checkpoint: parameters, active per token, experts, KV-cache bytes per token");
  info->add_option("dir", args->dir, "Checkpoint directory (with config.json)")->required();
  info->callback([args] {
    std::filesystem::path p(args->dir);
    if (std::filesystem::is_directory(p)) p /= "config.json";
    std::cout << describe(policies::ModelConfig::from_file(p.string()));
  });

  CLI::App* gguf = model->add_subcommand(
      "import-gguf", "Convert a Llama GGUF file (F32/F16/BF16/Q8_0/Q4_0/Q4_1) into a checkpoint with tokenizer.json");
  gguf->add_option("file", args->gguf, "The .gguf file")->required();
  gguf->add_option("--out", args->out, "Output directory")->required();
  gguf->add_option("--dtype", args->dtype, "On-disk dtype of the dequantised weights")->capture_default_str()->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
  gguf->callback([args] {
    policies::GgufImportOptions o;
    o.dtype = dtype_of(args->dtype);
    policies::GgufImportResult r = policies::import_gguf(args->gguf, args->out, o);
    std::cout << "wrote " << args->out << " from " << args->gguf << "\ntensors:";
    for (const auto& [type, n] : r.tensor_types) std::cout << " " << n << " " << type;
    std::cout << "\ntokenizer: " << (r.tokenizer ? "tokenizer.json" : "none in the file")
              << (r.chat_template ? ", chat template in tokenizer_config.json" : "") << "\n"
              << describe(r.config);
  });
}

}  // namespace grpo::cli
