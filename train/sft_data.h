// sft_data.h: the training sequences of `grpo sft`, from the recipe's `sft`
// section: a plain-text corpus cut into fixed-length sequences (every token a
// target), or prompt/completion pairs (targets on the completion only).
//
//   auto seqs = text_sequences("corpus.txt", tokenizer, /*seq_len=*/128, eos);
//   auto seqs = pair_sequences("pairs.jsonl", recipe.sft, prompt_template, tokenizer, eos);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "learner/sequence_batch.h"
#include "learner/sft_config.h"
#include "policies/prompt_template.h"
#include "policies/tokenizer.h"

namespace grpo::train {

// Every non-empty line of `path` is a document; documents (each followed by
// `eos` when given) are joined into one token stream and cut into sequences
// of seq_len targets: sequence k holds stream[k*seq_len .. (k+1)*seq_len]
// (seq_len + 1 tokens, the last one shared with the next sequence's first),
// prompt_len 1. Throws IoError naming the file when it is missing or yields
// fewer than 2 tokens.
std::vector<learner::TrainSequence> text_sequences(const std::string& path, const policies::Tokenizer& tokenizer,
                                                   int64_t seq_len, std::optional<int32_t> eos);

// One sequence per JSONL row: the prompt (rendered with `tmpl` when
// config.apply_template, else its text) then the completion (then `eos`);
// prompt_len = the prompt's tokens, so only completion tokens are targets.
// Throws ConfigError/IoError naming the file and line of a row without the
// fields or with an empty completion.
std::vector<learner::TrainSequence> pair_sequences(const std::string& path, const learner::SftConfig& config,
                                                   const policies::PromptTemplate& tmpl,
                                                   const policies::Tokenizer& tokenizer, std::optional<int32_t> eos);

}  // namespace grpo::train
