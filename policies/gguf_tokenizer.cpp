// gguf_tokenizer.cpp: tokenizer.ggml.* metadata -> tokenizer.json /
// tokenizer_config.json.
#include "policies/gguf_tokenizer.h"

#include <set>

#include "core/error.h"
#include "policies/internal/tokenizer_byte_level.h"
#include "policies/internal/tokenizer_utf8.h"

namespace grpo::policies {

using nlohmann::json;

namespace {

// llama.cpp's token types (llama_token_type).
constexpr int kControl = 3, kUserDefined = 4;

const char* const kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

json split(const std::string& regex) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
}

// The pre_tokenizer for tokenizer.ggml.pre, and whether BPE ignores merges
// for whole-vocabulary words (llama.cpp sets that for the Llama 3 family).
json pre_tokenizer(const GgufFile& f, bool& ignore_merges) {
  const std::string pre = f.has("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "default";
  ignore_merges = false;
  if (pre == "default" || pre == "gpt2" || pre == "gpt-2") return byte_level(true);
  if (pre == "smollm") return {{"type", "Sequence"}, {"pretokenizers", {split(R"(\p{N})"), byte_level(true)}}};
  if (pre == "llama3" || pre == "llama-bpe" || pre == "llama-v3") {
    ignore_merges = true;
    return {{"type", "Sequence"}, {"pretokenizers", {split(kLlama3Split), byte_level(false)}}};
  }
  if (pre == "qwen2" || pre == "deepseek-r1-qwen")
    return {{"type", "Sequence"}, {"pretokenizers", {split(kQwen2Split), byte_level(false)}}};
  throw IoError(f.path(), "tokenizer.ggml.pre: pre-tokenizer '" + pre +
                              "' is not supported (supported: default, gpt2, smollm, llama3, llama-bpe, llama-v3, qwen2, deepseek-r1-qwen)");
}

// Whether every character of `token` is in the byte-level alphabet.
bool in_byte_alphabet(const std::string& token) {
  size_t pos = 0, length = 0;
  for (; pos < token.size(); pos += length) {
    uint32_t cp = internal::utf8_decode(token, pos, length);
    if ((cp & internal::kInvalidByte) || internal::code_point_to_byte(cp) < 0) return false;
  }
  return true;
}

const json& string_array(const GgufFile& f, const std::string& key) {
  const json& a = f.get_array(key);
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].is_string()) throw IoError(f.path(), key + "[" + std::to_string(i) + "]: must be a string");
  return a;
}

}  // namespace

std::string gguf_tokenizer_json(const GgufFile& f) {
  const std::string model = f.get_string("tokenizer.ggml.model");
  if (model != "gpt2")
    throw IoError(f.path(), "tokenizer.ggml.model: '" + model + "' is not supported (supported: gpt2, byte-level BPE)");
  const json& tokens = string_array(f, "tokenizer.ggml.tokens");
  const json& merges_in = string_array(f, "tokenizer.ggml.merges");
  json types = f.has("tokenizer.ggml.token_type") ? f.get_array("tokenizer.ggml.token_type") : json::array();
  if (!types.empty() && types.size() != tokens.size())
    throw IoError(f.path(), "tokenizer.ggml.token_type: " + std::to_string(types.size()) + " entries for " + std::to_string(tokens.size()) + " tokens");

  json vocab = json::object();
  json added = json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& tok = tokens[id].get_ref<const std::string&>();
    const bool spelled = in_byte_alphabet(tok);
    // A token outside the alphabet is raw text; BPE needs its bytes spelled.
    const std::string entry = spelled ? tok : internal::bytes_to_byte_level(tok);
    if (vocab.contains(entry)) throw IoError(f.path(), "tokenizer.ggml.tokens[" + std::to_string(id) + "]: '" + tok + "' appears twice");
    vocab[entry] = id;
    const int type = types.empty() ? 1 : types[id].get<int>();
    // Like transformers: a CONTROL token outside the byte alphabet is a
    // llama.cpp mislabel and is not made special.
    if ((type == kControl && spelled) || type == kUserDefined)
      added.push_back({{"id", id}, {"content", tok}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", type == kControl}});
  }
  json merges = json::array();
  for (size_t i = 0; i < merges_in.size(); ++i) {
    const std::string& m = merges_in[i].get_ref<const std::string&>();
    const size_t space = m.find(' ');
    if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos)
      throw IoError(f.path(), "tokenizer.ggml.merges[" + std::to_string(i) + "]: '" + m + "' is not two tokens separated by one space");
    merges.push_back({m.substr(0, space), m.substr(space + 1)});
  }
  bool ignore_merges = false;
  json pre = pre_tokenizer(f, ignore_merges);

  json post = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
  if (f.get_bool("tokenizer.ggml.add_bos_token", false) || f.get_bool("tokenizer.ggml.add_eos_token", false)) {
    // TemplateProcessing adds BOS/EOS when the caller asks for special tokens.
    json single = json::array(), specials = json::object();
    auto add_special = [&](const char* key, bool first) {
      const int64_t id = f.get_int(key);
      if (id < 0 || id >= int64_t(tokens.size())) throw IoError(f.path(), std::string(key) + ": id " + std::to_string(id) + " is not a token");
      const std::string& tok = tokens[id].get_ref<const std::string&>();
      json item = {{"SpecialToken", {{"id", tok}, {"type_id", 0}}}};
      if (first) single.insert(single.begin(), item);
      else single.push_back(item);
      specials[tok] = {{"id", tok}, {"ids", {id}}, {"tokens", {tok}}};
    };
    single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
    if (f.get_bool("tokenizer.ggml.add_bos_token", false)) add_special("tokenizer.ggml.bos_token_id", true);
    if (f.get_bool("tokenizer.ggml.add_eos_token", false)) add_special("tokenizer.ggml.eos_token_id", false);
    json pair = single;
    pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
    post = {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
  }

  json out = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre},
      {"post_processor", post},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", ignore_merges},
        {"vocab", vocab}, {"merges", merges}}},
  };
  return out.dump(1);
}

std::string gguf_tokenizer_config_json(const GgufFile& f) {
  const json& tokens = string_array(f, "tokenizer.ggml.tokens");
  json out = {{"tokenizer_class", "PreTrainedTokenizerFast"},
              {"add_bos_token", f.get_bool("tokenizer.ggml.add_bos_token", false)},
              {"add_eos_token", f.get_bool("tokenizer.ggml.add_eos_token", false)},
              {"clean_up_tokenization_spaces", false}};
  const std::pair<const char*, const char*> specials[] = {{"bos_token", "tokenizer.ggml.bos_token_id"},
                                                          {"eos_token", "tokenizer.ggml.eos_token_id"},
                                                          {"unk_token", "tokenizer.ggml.unknown_token_id"},
                                                          {"pad_token", "tokenizer.ggml.padding_token_id"}};
  for (const auto& [name, key] : specials) {
    if (!f.has(key)) continue;
    const int64_t id = f.get_int(key);
    if (id < 0 || id >= int64_t(tokens.size())) throw IoError(f.path(), std::string(key) + ": id " + std::to_string(id) + " is not a token");
    out[name] = tokens[id];
  }
  if (f.has("tokenizer.chat_template")) out["chat_template"] = f.get_string("tokenizer.chat_template");
  return out.dump(2);
}

}  // namespace grpo::policies
