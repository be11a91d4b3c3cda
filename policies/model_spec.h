// model_spec.h: the `model`, `tokenizer` and `template` sections of a recipe:
// which policy to load (or initialise), how text becomes tokens, and how a
// dataset row becomes a prompt.
#pragma once

#include <string>

namespace grpo::policies {

// Which checkpoint the policy starts from, and where it computes.
struct ModelSpec {
  std::string path;
  std::string init_arch;
  std::string init_preset = "tiny";
  std::string device = "cpu";
  std::string dtype = "float32";

  template <class V> void fields(V& v) {
    v.field("path", path, "Hugging Face checkpoint directory (config.json + safetensors) the policy starts from.");
    v.field("init_arch", init_arch, "When `path` is empty: architecture of a randomly initialised policy (deepseek_v3, qwen2, llama).");
    v.field("init_preset", init_preset, "Size preset of a randomly initialised policy (tiny, small, ...).");
    v.field("device", device, "Device of the policy, its reference copy, the in-process rollout engine and the learner: cpu, cuda (= cuda:0) or cuda:N; checked at startup (docs/gpu.md). Rollout worker processes (rollout.workers > 0) follow rollout.device, which defaults to this.");
    v.choice("dtype", dtype, {"float32", "bfloat16", "float16"}, "Compute dtype of the weights. Training in bfloat16 keeps float32 master weights and AdamW moments in the optimizer, sums micro-batch gradients in float32 and computes the log-softmax and loss in float32; float16 is for inference (eval): training refuses it (it would need loss scaling).");
    v.check(!path.empty() || !init_arch.empty(), "path", "set model.path to a checkpoint directory or model.init_arch to initialise one");
    v.check(device == "cpu" || device.rfind("cuda", 0) == 0, "device", "must be cpu, cuda or cuda:N");
  }
};

// Where the tokenizer comes from.
struct TokenizerSpec {
  std::string path;

  template <class V> void fields(V& v) {
    v.field("path", path, "tokenizer.json file or a directory holding one; empty means the model directory.");
  }
};

// How a dataset row becomes the prompt text.
struct TemplateSpec {
  std::string name = "r1_zero";
  std::string text;
  std::string system;
  std::string generation_prefix;

  template <class V> void fields(V& v) {
    v.choice("name", name, {"r1_zero", "plain", "chatml", "deepseek"}, "Prompt template: r1_zero (DeepSeek-R1-Zero's), plain (`text` with {placeholders}), chatml (Qwen), deepseek.");
    v.field("text", text, "Template text for `plain` (and the user turn of chat templates); {field} is replaced by the dataset row's field.");
    v.field("system", system, "System message for chat templates; empty for none.");
    v.field("generation_prefix", generation_prefix, "Text the prompt ends with after the assistant marker, e.g. \"<think>\\n\" to open DeepSeek-R1's reasoning block; empty for none.");
    v.check(name != "plain" || !text.empty(), "text", "template.name is plain: set template.text, e.g. \"Q: {question}\\nA:\"");
  }
};

}  // namespace grpo::policies
