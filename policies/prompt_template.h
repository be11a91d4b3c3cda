// prompt_template.h: how a dataset row becomes the prompt the policy
// continues (recipe section `template`, model_spec.h TemplateSpec):
//   r1_zero   DeepSeek-R1-Zero's raw-text template (R1 paper, Table 1)
//   plain     `text` with {field} placeholders
//   chatml    Qwen: <|im_start|>role\n...<|im_end|>\n turns
//   deepseek  DeepSeek-V3/R1: <｜begin▁of▁sentence｜>{system}<｜User｜>...<｜Assistant｜>
// Chat templates write special tokens as text; their names are resolved in the
// tokenizer when the template is built, so a template/tokenizer mismatch fails
// at load time, naming the missing token (model-reference.md §3.9).
//
//   PromptTemplate tpl(spec, tokenizer);   // borrows tokenizer: it must outlive tpl
//   std::string prompt = tpl.render({{"prompt", "What is 2+2?"}});
//   std::vector<int32_t> ids = tpl.encode({{"prompt", "What is 2+2?"}});
//
// Placeholders: {name} is a row field (the question is "prompt"); "{{" and "}}"
// are literal braces; a brace not followed by an identifier and "}" is text
// (so "\boxed{}" needs no escaping). Immutable and thread-safe after construction.
//
// DEVIATION: chatml inserts no default system message (Qwen3's behaviour;
// Qwen2.5's template would add "You are Qwen, created by Alibaba Cloud...") and
// keeps assistant history verbatim (Qwen3's template strips earlier turns'
// <think> blocks; DeepSeek-R1's keeps only the text after </think>). Training
// prompts are single-turn, where the outputs equal the HF templates'.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policies/model_spec.h"
#include "policies/tokenizer.h"

namespace grpo::policies {

// One turn of a conversation; role is "system", "user" or "assistant".
struct ChatTurn {
  std::string role;
  std::string content;
};

using TemplateRow = std::map<std::string, std::string>;

class PromptTemplate {
 public:
  // Throws grpo::ConfigError (key template.*) for an unknown name or a
  // tokenizer that lacks the template's special tokens.
  PromptTemplate(const TemplateSpec& spec, const Tokenizer& tokenizer);

  // Prompt text for one dataset row (generation prompt included).
  std::string render(const TemplateRow& row) const;
  // Token ids of render(row); special tokens are parsed, as Hugging Face's
  // apply_chat_template(tokenize=True) does.
  std::vector<int32_t> encode(const TemplateRow& row) const;
  // A whole conversation (chat templates; r1_zero/plain join the user turns).
  std::string render_chat(const std::vector<ChatTurn>& turns, bool add_generation_prompt) const;

  // Ids that end a completion for this template: the end-of-turn token of chat
  // templates, plus the tokenizer's end-of-text tokens that exist.
  const std::vector<int32_t>& stop_ids() const { return stop_ids_; }
  const std::string& name() const { return spec_.name; }

  // The R1-Zero template text (with a {prompt} placeholder).
  static const char* r1_zero_text();

 private:
  std::string user_text(const TemplateRow& row) const;

  TemplateSpec spec_;
  const Tokenizer* tokenizer_;
  std::vector<int32_t> stop_ids_;
};

// Replaces {name} placeholders with values from `row`. Throws
// grpo::ConfigError (key `where`) naming a placeholder the row lacks.
std::string fill_placeholders(const std::string& text, const TemplateRow& row, const std::string& where);

}  // namespace grpo::policies
