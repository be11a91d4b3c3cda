// tokenizer.h: byte-level BPE tokenizers read from Hugging Face
// `tokenizer.json` (Qwen2/2.5/3, DeepSeek-V3/R1, Llama 3, GPT-2 styles), giving
// the same ids as the `tokenizers` library (model-reference.md §3).
//
//   auto tok = grpo::policies::Tokenizer::load("/models/qwen3");  // dir or file
//   std::vector<int32_t> ids = tok.encode("Hello <|im_end|>");    // specials split out
//   std::string text = tok.decode(ids);                            // invalid UTF-8 -> U+FFFD
//   int32_t eos = tok.require_token("<|im_end|>", "template chatml");
//
// Pipeline of encode(): added tokens cut out (raw text) -> normalizer (NFC) ->
// normalized added tokens -> pre-tokenizer (RE2 Split regexes) -> BPE per
// piece (cached) -> optional post-processor tokens.
// Thread-safety: a loaded Tokenizer is immutable apart from an internal,
// locked cache; every const method may be called from many threads at once.
// Movable, not copyable (a 150k vocabulary holds ~10 MB).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::policies {

struct TokenizerImpl;

// What encode() does beyond plain text.
struct EncodeOptions {
  // Cut special added tokens out of the text. false treats text like
  // "<|im_end|>" as ordinary characters (tokenizers' split_special_tokens),
  // for untrusted text; non-special added tokens are still matched.
  bool parse_special = true;
  // Add the post-processor's tokens (TemplateProcessing, e.g. Llama 3's BOS).
  // Off by default: prompt templates write their special tokens as text.
  bool add_special_tokens = false;
};


class Tokenizer {
 public:
  // Loads `path`: a tokenizer.json file or a directory holding one. Throws
  // grpo::IoError (unreadable) or grpo::Error naming the bad key.
  static Tokenizer load(const std::string& path);
  // Parses tokenizer.json text; `source` names it in error messages.
  static Tokenizer from_json_text(const std::string& json_text, const std::string& source = "<memory>");

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  std::vector<int32_t> encode(std::string_view text) const;
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options) const;
  // encode() of each text on `threads` threads (0: one per available core).
  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string>& texts, size_t threads = 0,
                                                 const EncodeOptions& options = EncodeOptions()) const;

  // Text of `ids`: bytes of every token, then UTF-8 with each invalid sequence
  // replaced by U+FFFD. Unknown ids are skipped, as tokenizers does. With
  // skip_special_tokens, added tokens marked special are left out.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;
  // Raw bytes of one token (may be part of a UTF-8 character); empty if unknown.
  std::string token_bytes(int32_t id) const;

  // Id of a token string (added tokens first, then the BPE vocab).
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Like token_to_id, but throws grpo::Error naming `needed_by` and this
  // tokenizer's file when the token is missing.
  int32_t require_token(std::string_view token, const std::string& needed_by) const;
  // Token string of `id` (byte-level alphabet for BPE tokens); empty if unknown.
  std::string id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;
  // One past the largest id (BPE vocab and added tokens).
  int32_t vocab_size() const;
  // Bytes held by the vocabulary and merge tables (not the encode cache).
  size_t memory_bytes() const;
  // The file this tokenizer came from.
  const std::string& source() const;

 private:
  explicit Tokenizer(std::unique_ptr<TokenizerImpl> impl);
  std::unique_ptr<TokenizerImpl> impl_;
};

// Turns ids into text as they are generated: bytes are held back until they
// complete a UTF-8 character, so no U+FFFD appears mid-character. Borrows the
// Tokenizer, which must outlive it. Not thread-safe.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}
  // Text completed by `id` (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held back, with replacement characters.
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace grpo::policies
