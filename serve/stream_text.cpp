#include "serve/stream_text.h"

#include "core/error.h"

namespace grpo::serve {

namespace {
const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

void drop_trailing_replacements(std::string& s) {
  while (s.size() >= kReplacement.size() && s.compare(s.size() - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
    s.resize(s.size() - kReplacement.size());
}
}  // namespace

StreamText::StreamText(rollout::DecodeFn decode, size_t holdback_tokens) : decode_(std::move(decode)), holdback_(holdback_tokens) {
  if (!decode_) throw Error("StreamText: a decode function is required");
}

std::string StreamText::push(int64_t token) {
  ids_.push_back(token);
  if (ids_.size() <= holdback_) return "";
  std::string safe = decode_({ids_.begin(), ids_.end() - static_cast<std::ptrdiff_t>(holdback_)});
  drop_trailing_replacements(safe);
  // Decoding a longer prefix only appends text (byte-level BPE); anything
  // else would be a tokenizer whose pieces interact, so nothing is sent early.
  if (safe.size() <= sent_.size() || safe.compare(0, sent_.size(), sent_) != 0) return "";
  std::string piece = safe.substr(sent_.size());
  sent_ = std::move(safe);
  return piece;
}

std::string StreamText::finish(const std::string& final_text) {
  if (final_text.compare(0, sent_.size(), sent_) != 0)
    throw Error("streamed text \"" + sent_ + "\" is not a prefix of the final text \"" + final_text + "\"");
  std::string piece = final_text.substr(sent_.size());
  sent_ = final_text;
  return piece;
}

}  // namespace grpo::serve
