// `grpo tokenizer encode|decode|train`: scripting access to the tokenizer.
//   encode: JSON lines on stdin, each a string or {"text": ...}; writes one
//           JSON array of ids per line.
//   decode: JSON lines on stdin, each an array of ids or {"ids": [...]};
//           writes one JSON string per line.
//   train:  trains a byte-level BPE on a text file and writes tokenizer.json.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "policies/bpe_trainer.h"
#include "policies/tokenizer.h"

namespace grpo::cli {
namespace {

struct TokenizerArgs {
  std::string tokenizer;
  bool no_special = false;
  bool add_special_tokens = false;
  bool skip_special_tokens = false;
  std::string corpus;
  int vocab = 2048;
  int64_t min_frequency = 2;
  std::string out;
  std::vector<std::string> special;
  std::vector<std::string> added;
};

nlohmann::json parse_line(const std::string& line, size_t number) {
  nlohmann::json v = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) throw Error("stdin line " + std::to_string(number) + ": not valid JSON");
  return v;
}

void run_encode(const TokenizerArgs& a) {
  const auto tok = policies::Tokenizer::load(a.tokenizer);
  policies::EncodeOptions options;
  options.parse_special = !a.no_special;
  options.add_special_tokens = a.add_special_tokens;
  std::string line;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    if (line.empty()) continue;
    const nlohmann::json v = parse_line(line, n);
    std::string text;
    if (v.is_string()) text = v.get<std::string>();
    else if (v.is_object() && v.contains("text") && v["text"].is_string()) text = v["text"].get<std::string>();
    else throw Error("stdin line " + std::to_string(n) + ": expected a JSON string or {\"text\": \"...\"}");
    std::cout << nlohmann::json(tok.encode(text, options)).dump() << "\n";
  }
}

void run_decode(const TokenizerArgs& a) {
  const auto tok = policies::Tokenizer::load(a.tokenizer);
  std::string line;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    if (line.empty()) continue;
    nlohmann::json v = parse_line(line, n);
    if (v.is_object() && v.contains("ids")) v = v["ids"];
    if (!v.is_array()) throw Error("stdin line " + std::to_string(n) + ": expected an array of ids or {\"ids\": [...]}");
    std::vector<int32_t> ids;
    for (const auto& id : v) {
      if (!id.is_number_integer()) throw Error("stdin line " + std::to_string(n) + ": ids must be integers, got " + id.dump());
      ids.push_back(id.get<int32_t>());
    }
    std::cout << nlohmann::json(tok.decode(ids, a.skip_special_tokens)).dump() << "\n";
  }
}

void run_train(const TokenizerArgs& a) {
  std::ifstream in(a.corpus, std::ios::binary);
  if (!in) throw IoError(a.corpus, "cannot read corpus");
  // One text per line keeps memory flat; newlines stay part of the text.
  std::vector<std::string> texts;
  std::string line;
  while (std::getline(in, line)) texts.push_back(line + "\n");
  policies::BpeTrainerOptions options;
  options.vocab_size = a.vocab;
  options.min_frequency = a.min_frequency;
  if (!a.special.empty()) options.special_tokens = a.special;
  if (!a.added.empty()) options.added_tokens = a.added;
  const std::string json = policies::train_bpe(texts, options);
  policies::write_tokenizer_dir(a.out, json, options);
  const auto tok = policies::Tokenizer::load(a.out);
  std::cerr << "grpo tokenizer train: wrote " << a.out << "/tokenizer.json (" << tok.vocab_size() << " tokens)\n";
}

}  // namespace

void add_tokenizer_command(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("tokenizer", "Encode, decode (JSON lines on stdin/stdout) and train tokenizers");
  cmd->require_subcommand(1);
  auto args = std::make_shared<TokenizerArgs>();

  CLI::App* encode = cmd->add_subcommand("encode", "Text to ids: each stdin line a JSON string or {\"text\": ...}; prints a JSON array of ids per line");
  encode->add_option("--tokenizer", args->tokenizer, "tokenizer.json or a directory holding one")->required();
  encode->add_flag("--no-special", args->no_special, "Treat special-token text (e.g. <|im_end|>) as plain text");
  encode->add_flag("--add-special-tokens", args->add_special_tokens, "Add the post-processor's tokens (e.g. Llama 3's BOS)");
  encode->callback([args] { run_encode(*args); });

  CLI::App* decode = cmd->add_subcommand("decode", "Ids to text: each stdin line a JSON array of ids or {\"ids\": [...]}; prints a JSON string per line");
  decode->add_option("--tokenizer", args->tokenizer, "tokenizer.json or a directory holding one")->required();
  decode->add_flag("--skip-special-tokens", args->skip_special_tokens, "Leave special tokens out of the text");
  decode->callback([args] { run_decode(*args); });

  CLI::App* train = cmd->add_subcommand("train", "Train a small byte-level BPE on a text file; writes DIR/tokenizer.json");
  train->add_option("corpus", args->corpus, "Text file to train on")->required()->check(CLI::ExistingFile);
  train->add_option("--vocab", args->vocab, "Vocabulary size (special tokens, 256 bytes, merges, added tokens)")->capture_default_str()->check(CLI::Range(1, 1 << 24));
  train->add_option("--min-frequency", args->min_frequency, "Smallest pair count that is still merged")->capture_default_str();
  train->add_option("--out", args->out, "Output directory")->required();
  train->add_option("--special", args->special, "Special token (repeatable; default <|endoftext|> <|im_start|> <|im_end|>)");
  train->add_option("--added", args->added, "Non-special added token (repeatable; default <think> </think> <answer> </answer>)");
  train->callback([args] { run_train(*args); });
}

}  // namespace grpo::cli
