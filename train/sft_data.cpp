// sft_data.cpp: see sft_data.h.
#include "train/sft_data.h"

#include <fstream>

#include "core/dataset.h"
#include "core/error.h"
#include "train/components.h"

namespace grpo::train {

std::vector<learner::TrainSequence> text_sequences(const std::string& path, const policies::Tokenizer& tokenizer,
                                                   int64_t seq_len, std::optional<int32_t> eos) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open the sft.text corpus");
  std::vector<std::string> docs;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) docs.push_back(line);
  std::vector<int64_t> stream;
  for (const auto& ids : tokenizer.encode_batch(docs)) {
    stream.insert(stream.end(), ids.begin(), ids.end());
    if (eos) stream.push_back(*eos);
  }
  if (stream.size() < 2) throw IoError(path, "the corpus holds fewer than 2 tokens; nothing to train on");
  std::vector<learner::TrainSequence> out;
  const auto n = static_cast<int64_t>(stream.size());
  for (int64_t start = 0; start + 1 < n; start += seq_len) {
    learner::TrainSequence s;
    s.tokens.assign(stream.begin() + start, stream.begin() + std::min(n, start + seq_len + 1));
    s.prompt_len = 1;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<learner::TrainSequence> pair_sequences(const std::string& path, const learner::SftConfig& config,
                                                   const policies::PromptTemplate& tmpl,
                                                   const policies::Tokenizer& tokenizer, std::optional<int32_t> eos) {
  Dataset rows = Dataset::load_jsonl(path, {config.prompt_field, config.completion_field});
  std::vector<learner::TrainSequence> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const DatasetRow& row = rows.row(i);
    const auto& completion_field = row.fields[config.completion_field];
    const auto& prompt_field = row.fields[config.prompt_field];
    if (!completion_field.is_string() || completion_field.get<std::string>().empty())
      throw IoError(row.source, "'" + config.completion_field + "' must be a non-empty string (the text to learn)");
    if (!prompt_field.is_string()) throw IoError(row.source, "'" + config.prompt_field + "' must be a string");
    std::vector<int32_t> prompt = config.apply_template ? tmpl.encode(template_row(row.fields, config.prompt_field))
                                                        : tokenizer.encode(prompt_field.get<std::string>());
    if (prompt.empty()) throw IoError(row.source, "'" + config.prompt_field + "' encodes to no token; a prompt needs at least one");
    std::vector<int32_t> completion = tokenizer.encode(completion_field.get<std::string>());
    learner::TrainSequence s;
    s.tokens.assign(prompt.begin(), prompt.end());
    s.prompt_len = static_cast<int64_t>(prompt.size());
    s.tokens.insert(s.tokens.end(), completion.begin(), completion.end());
    if (eos) s.tokens.push_back(*eos);
    out.push_back(std::move(s));
  }
  if (out.empty()) throw IoError(path, "no prompt/completion rows; nothing to train on");
  return out;
}

}  // namespace grpo::train
