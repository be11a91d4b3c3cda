// gguf_tokenizer.h: a GGUF file's tokenizer metadata (llama.cpp's
// `tokenizer.ggml.*` keys) as Hugging Face `tokenizer.json` and
// `tokenizer_config.json` texts, loadable by policies/tokenizer.h and by the
// `tokenizers` library alike.
//
//   GgufFile f = GgufFile::open("model.gguf");
//   write_file(dir + "/tokenizer.json", gguf_tokenizer_json(f));
//
// Supported: tokenizer.ggml.model "gpt2" (byte-level BPE): tokens (respelled
// into the byte-level alphabet when a token is not already, as transformers'
// GGUF loader does), merges, token types (3 CONTROL -> special added token,
// 4 USER_DEFINED -> non-special added token), and the pre-tokenizer named by
// tokenizer.ggml.pre:
//   absent, default, gpt2          GPT-2's ByteLevel regex
//   smollm                          digits split one by one, then GPT-2's regex
//                                   (llama.cpp's LLAMA_VOCAB_PRE_TYPE_SMOLLM;
//                                   SmolLM's own tokenizer.json: Digits + ByteLevel)
//   llama3, llama-bpe, llama-v3     Llama 3's split regex (ignore_merges, as llama.cpp)
//   qwen2, deepseek-r1-qwen         Qwen2's split regex
// DEVIATION: transformers' GGUF loader uses GPT-2's regex for every pre name it
// does not list (smollm among them); we follow llama.cpp, which the file was
// made for, and reject names we do not know instead of guessing. For SmolLM2
// both give the same ids (its vocabulary has no token mixing digits with
// anything else; tests/policies/gguf_import_test.cpp checks 300 strings).
// Other tokenizer.ggml.model values (llama/SentencePiece, t5, ...) throw
// grpo::IoError naming the key.
#pragma once

#include <string>

#include "policies/gguf.h"

namespace grpo::policies {

// tokenizer.json text for `file`'s tokenizer. Throws IoError naming the key
// for unsupported or inconsistent tokenizer metadata.
std::string gguf_tokenizer_json(const GgufFile& file);

// tokenizer_config.json text: bos/eos/unk/pad token strings, add_bos_token,
// add_eos_token and tokenizer.chat_template (when present) as chat_template.
std::string gguf_tokenizer_config_json(const GgufFile& file);

}  // namespace grpo::policies
