// sft_config.h: the `sft` section of a recipe: supervised next-token training
// (`grpo sft`), either on plain text (pretraining a base model) or on
// prompt/completion pairs with the loss on completion tokens only (cold-start
// SFT, DeepSeek-R1 §2.3.1). The optimizer, schedule, micro-batching and
// checkpoints come from the `learner` section, the length from run.steps.
#pragma once

#include <cstdint>
#include <string>

namespace grpo::learner {

// What `grpo sft` trains on and how it cuts it into sequences.
struct SftConfig {
  std::string text;                       // plain-text corpus; every line is a document
  std::string pairs;                      // JSONL of prompt/completion rows
  std::string prompt_field = "prompt";
  std::string completion_field = "completion";
  bool apply_template = true;             // render pair prompts with the recipe's template
  int64_t seq_len = 128;                  // tokens per training sequence of a text corpus
  int64_t batch_size = 16;                // sequences per optimizer step
  bool add_eos = true;
  std::string output;                     // final model directory; empty = <run dir>/final

  // True when the recipe asks for supervised training at all.
  bool enabled() const { return !text.empty() || !pairs.empty(); }

  template <class V> void fields(V& v) {
    v.field("text", text, "Plain-text corpus for next-token training (pretraining): every line is a document; documents are joined with EOS and cut into seq_len-token sequences, every token a target. Set this or pairs.");
    v.field("pairs", pairs, "JSONL file of prompt/completion rows (cold-start SFT): the loss covers completion tokens only, never the prompt. Set this or text.");
    v.field("prompt_field", prompt_field, "Field of a pairs row holding the prompt.");
    v.field("completion_field", completion_field, "Field of a pairs row holding the completion.");
    v.field("apply_template", apply_template, "Render a pairs prompt with the recipe's template (as `grpo train` renders its prompts); false uses the prompt text as is.");
    v.field("seq_len", seq_len, "Tokens per training sequence cut from a text corpus (the model's context for pretraining).");
    v.field("batch_size", batch_size, "Sequences per optimizer step (split into micro-batches by learner.micro_batch_tokens).");
    v.field("add_eos", add_eos, "End every document and every completion with the tokenizer's end-of-text token, so the model learns to stop.");
    v.field("output", output, "Directory for the final model (Hugging Face layout with tokenizer.json); empty means <run dir>/final.");

    v.check(text.empty() || pairs.empty(), "pairs", "set sft.text or sft.pairs, not both (one run trains on one kind of data)");
    v.check(seq_len >= 2, "seq_len", "must be >= 2 (one input and one target token)");
    v.check(batch_size >= 1, "batch_size", "must be >= 1");
  }
};

}  // namespace grpo::learner
