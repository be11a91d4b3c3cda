// chat_template.h: which prompt template renders /v1/chat/completions
// messages when the user names none: the checkpoint's own, recognised from
// the `chat_template` of its tokenizer_config.json (Hugging Face's Jinja
// text, which we do not run: we map it to our chatml or deepseek renderer),
// else chatml when the tokenizer has <|im_start|>/<|im_end|>, else r1_zero
// (raw text: the turns joined by newlines).
//
//   TemplateSpec spec = detect_chat_template("/models/qwen3", tokenizer);
#pragma once

#include <string>

#include "policies/model_spec.h"
#include "policies/tokenizer.h"

namespace grpo::serve {

// tokenizer_path: the tokenizer.json file or its directory. Throws
// grpo::IoError for an unreadable or malformed tokenizer_config.json.
policies::TemplateSpec detect_chat_template(const std::string& tokenizer_path, const policies::Tokenizer& tokenizer);

}  // namespace grpo::serve
