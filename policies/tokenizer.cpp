// Tokenizer: loading tokenizer.json and the encode / decode pipelines.
#include "policies/tokenizer.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policies/internal/bpe_model.h"
#include "policies/internal/pretokenizer.h"
#include "policies/internal/tokenizer_added_tokens.h"
#include "policies/internal/tokenizer_byte_level.h"
#include "policies/internal/tokenizer_normalizer.h"
#include "policies/internal/tokenizer_post_processor.h"
#include "policies/internal/tokenizer_utf8.h"

namespace grpo::policies {

using internal::AddedToken;
using internal::AddedTokenMatcher;
using internal::BpeModel;
using internal::Normalizer;
using internal::PostProcessor;
using internal::PreTokenizer;
using internal::TextSegment;
using internal::byte_level_to_bytes;
using internal::check_decoder;
using internal::utf8_complete_prefix;
using internal::utf8_lossy;

struct TokenizerImpl {
  std::string source;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  BpeModel bpe;
  PostProcessor post;
  std::vector<AddedToken> added;         // in file order
  AddedTokenMatcher raw_matcher;         // tokens with normalized == false, on raw text
  AddedTokenMatcher normalized_matcher;  // tokens with normalized == true, on normalised text
  std::vector<int32_t> added_index;      // id -> index into `added`, -1 for BPE-only ids
  int32_t id_end = 0;

  const AddedToken* added_token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= added_index.size() || added_index[id] < 0) return nullptr;
    return &added[added_index[id]];
  }
  void encode_text(std::string_view text, bool parse_special, std::vector<int32_t>& ids) const;
  void encode_normalized(std::string_view text, std::vector<int32_t>& ids) const;
};

namespace {

std::vector<AddedToken> parse_added_tokens(const nlohmann::json& root) {
  std::vector<AddedToken> out;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return out;
  if (!it->is_array()) throw Error("tokenizer.json: added_tokens: expected an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& t = (*it)[i];
    const std::string at = "added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") || !t["content"].is_string())
      throw Error("tokenizer.json: " + at + ": needs an integer \"id\" and a string \"content\"");
    AddedToken a;
    a.id = t["id"].get<int32_t>();
    if (a.id < 0) throw Error("tokenizer.json: " + at + ".id: must be >= 0, got " + std::to_string(a.id));
    a.content = t["content"].get<std::string>();
    a.special = t.value("special", false);
    a.lstrip = t.value("lstrip", false);
    a.rstrip = t.value("rstrip", false);
    a.single_word = t.value("single_word", false);
    a.normalized = t.value("normalized", !a.special);
    out.push_back(std::move(a));
  }
  return out;
}

void build_matchers(TokenizerImpl& t) {
  std::vector<const AddedToken*> raw, norm;
  std::vector<std::string> raw_pat, norm_pat;
  for (const AddedToken& a : t.added) {
    // Two passes as in tokenizers' AddedVocabulary, even when the normalizer
    // changes nothing: overlapping tokens resolve the same way.
    if (a.normalized) {
      norm.push_back(&a);
      norm_pat.push_back(t.normalizer.apply(a.content));
    } else {
      raw.push_back(&a);
      raw_pat.push_back(a.content);
    }
  }
  t.raw_matcher.build(raw, raw_pat);
  t.normalized_matcher.build(norm, norm_pat);
}

std::unique_ptr<TokenizerImpl> build(const nlohmann::json& root, const std::string& source) {
  if (!root.is_object()) throw Error(source + ": not a tokenizer.json (top level is not an object)");
  auto t = std::make_unique<TokenizerImpl>();
  t->source = source;
  const auto field = [&](const char* key) { return root.contains(key) ? root[key] : nlohmann::json(); };
  if (!root.contains("model")) throw Error(source + ": model: missing; tokenizer.json needs a \"model\" object (type BPE)");
  t->normalizer = Normalizer::from_json(field("normalizer"), "normalizer");
  t->pre_tokenizer = PreTokenizer::from_json(field("pre_tokenizer"), "pre_tokenizer");
  if (!t->pre_tokenizer.byte_level())
    throw Error("tokenizer.json: pre_tokenizer: no ByteLevel step; only byte-level BPE tokenizers are supported");
  t->bpe = BpeModel::from_json(root["model"], "model");
  t->post = PostProcessor::from_json(field("post_processor"), "post_processor");
  check_decoder(field("decoder"), "decoder");
  t->added = parse_added_tokens(root);
  t->id_end = t->bpe.vocab().id_end();
  for (const AddedToken& a : t->added) t->id_end = std::max(t->id_end, a.id + 1);
  t->added_index.assign(t->id_end, -1);
  for (size_t i = 0; i < t->added.size(); ++i) t->added_index[t->added[i].id] = static_cast<int32_t>(i);
  build_matchers(*t);
  return t;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open tokenizer file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void TokenizerImpl::encode_normalized(std::string_view text, std::vector<int32_t>& ids) const {
  std::vector<std::string_view> pieces;
  std::deque<std::string> arena;
  pre_tokenizer.split(text, pieces, arena);
  for (std::string_view piece : pieces) bpe.encode_piece(piece, ids);
}

void TokenizerImpl::encode_text(std::string_view text, bool parse_special, std::vector<int32_t>& ids) const {
  // 1. Added tokens on the raw text; 2. normalise the rest; 3. added tokens
  // marked normalized, on normalised text; 4. pre-tokenize + BPE.
  std::vector<TextSegment> segments;
  raw_matcher.split(text, !parse_special, segments);
  std::vector<TextSegment> inner;
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const std::string_view raw = text.substr(seg.begin, seg.end - seg.begin);
    std::string normalized_storage;
    std::string_view normalized = raw;
    if (!normalizer.identity()) {
      normalized_storage = normalizer.apply(raw);
      normalized = normalized_storage;
    }
    if (normalized_matcher.empty()) {
      encode_normalized(normalized, ids);
      continue;
    }
    inner.clear();
    normalized_matcher.split(normalized, !parse_special, inner);
    for (const TextSegment& s : inner) {
      if (s.id >= 0) ids.push_back(s.id);
      else encode_normalized(normalized.substr(s.begin, s.end - s.begin), ids);
    }
  }
}

Tokenizer::Tokenizer(std::unique_ptr<TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::load(const std::string& path) {
  std::string file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    file = (std::filesystem::path(path) / "tokenizer.json").string();
    if (!std::filesystem::exists(file, ec))
      throw IoError(path, "directory has no tokenizer.json (pass the file itself or a directory holding one)");
  }
  return from_json_text(read_text(file), file);
}

Tokenizer Tokenizer::from_json_text(const std::string& json_text, const std::string& source) {
  nlohmann::json root = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) throw Error(source + ": not valid JSON");
  try {
    return Tokenizer(build(root, source));
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": unexpected value type: " + e.what());
  } catch (const Error& e) {
    const std::string what = e.what();
    // Parts report "tokenizer.json: key: ..."; name the real file instead.
    const std::string generic = "tokenizer.json: ";
    if (what.rfind(generic, 0) == 0) throw Error(source + ": " + what.substr(generic.size()));
    throw;
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const { return encode(text, EncodeOptions()); }

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (options.add_special_tokens) ids.insert(ids.end(), impl_->post.prefix.begin(), impl_->post.prefix.end());
  impl_->encode_text(text, options.parse_special, ids);
  if (options.add_special_tokens) ids.insert(ids.end(), impl_->post.suffix.begin(), impl_->post.suffix.end());
  return ids;
}

std::vector<std::vector<int32_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts, size_t threads,
                                                          const EncodeOptions& options) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, texts.size());
  if (threads <= 1) {
    for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], options);
    return out;
  }
  // Interleaved assignment keeps long and short texts spread over threads.
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  for (size_t w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      try {
        for (size_t i = w; i < texts.size(); i += threads) out[i] = encode(texts[i], options);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& t : workers) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  if (const AddedToken* a = impl_->added_token(id)) return byte_level_to_bytes(a->content);
  const std::string_view tok = impl_->bpe.vocab().token(id);
  return tok.empty() ? std::string() : byte_level_to_bytes(tok);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special(id)) continue;
    bytes += token_bytes(id);
  }
  return utf8_lossy(bytes);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : impl_->added)
    if (a.content == token) return a.id;
  const int32_t id = impl_->bpe.vocab().find(token);
  if (id >= 0) return id;
  return std::nullopt;
}

int32_t Tokenizer::require_token(std::string_view token, const std::string& needed_by) const {
  if (auto id = token_to_id(token)) return *id;
  throw Error(needed_by + " needs the token \"" + std::string(token) + "\", which " + impl_->source +
              " does not have; use a tokenizer of the matching model family or another template");
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (const AddedToken* a = impl_->added_token(id)) return a->content;
  return std::string(impl_->bpe.vocab().token(id));
}

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* a = impl_->added_token(id);
  return a && a->special;
}

bool Tokenizer::is_added(int32_t id) const { return impl_->added_token(id) != nullptr; }
int32_t Tokenizer::vocab_size() const { return impl_->id_end; }
const std::string& Tokenizer::source() const { return impl_->source; }

size_t Tokenizer::memory_bytes() const {
  size_t n = impl_->bpe.memory_bytes() + impl_->added_index.capacity() * sizeof(int32_t);
  for (const AddedToken& a : impl_->added) n += sizeof(AddedToken) + a.content.capacity();
  return n;
}

std::string StreamDecoder::push(int32_t id) {
  if (skip_special_ && tokenizer_.is_special(id)) return std::string();
  pending_ += tokenizer_.token_bytes(id);
  const size_t complete = utf8_complete_prefix(pending_);
  std::string out = utf8_lossy(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = utf8_lossy(pending_);
  pending_.clear();
  return out;
}

}  // namespace grpo::policies
