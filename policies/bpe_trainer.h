// bpe_trainer.h: trains a small byte-level BPE and writes it as a Hugging Face
// tokenizer.json (Qwen-style: NFC, the Qwen Split regex, ByteLevel), so the
// tiny models of the examples get a vocabulary their size instead of 150k
// entries. The output loads in grpo's Tokenizer and in HF `tokenizers`.
//
//   BpeTrainerOptions opt; opt.vocab_size = 2048;
//   std::string json = train_bpe({"text one", "text two"}, opt);
//   write_tokenizer_dir("out/tok", json, opt);   // tokenizer.json + tokenizer_config.json
//
// Deterministic: ties between equally frequent pairs go to the pair whose
// (left, right) token strings sort first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grpo::policies {

struct BpeTrainerOptions {
  // Final vocabulary size: special tokens + 256 byte tokens + merges. >= 256 + specials.
  int vocab_size = 2048;
  // A pair must occur at least this often (over the corpus) to be merged.
  int64_t min_frequency = 2;
  // Added tokens, given the first ids (0, 1, ...), all `special`.
  std::vector<std::string> special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  // Non-special added tokens (e.g. "<think>", "</think>"), after the merges.
  std::vector<std::string> added_tokens = {"<think>", "</think>", "<answer>", "</answer>"};
};

// Trains on `texts` and returns tokenizer.json text. Throws grpo::Error when
// vocab_size cannot hold the byte alphabet and the special tokens.
std::string train_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& options);

// Writes `dir`/tokenizer.json and a tokenizer_config.json naming eos/pad
// tokens (so transformers' AutoTokenizer loads the directory too).
void write_tokenizer_dir(const std::string& dir, const std::string& tokenizer_json, const BpeTrainerOptions& options);

}  // namespace grpo::policies
