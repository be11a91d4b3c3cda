// tokenizer_added_tokens.h: the `added_tokens` of tokenizer.json and how they
// are cut out of text before normalisation and BPE: leftmost-longest,
// non-overlapping, honouring lstrip / rstrip / single_word
// (model-reference.md §3.7). Thread-safe after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::policies::internal {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

// A span of text: an added token (id >= 0) or plain text to tokenize (id < 0).
struct TextSegment {
  size_t begin;
  size_t end;
  int32_t id;
};

// Matches a fixed set of added tokens (a byte trie).
class AddedTokenMatcher {
 public:
  // `patterns[i]` is the string to find for `tokens[i]` (its content, or its
  // normalised content for normalized tokens).
  void build(const std::vector<const AddedToken*>& tokens, const std::vector<std::string>& patterns);
  bool empty() const { return terminals_.empty(); }
  // Cuts `text` into segments. With skip_special, special tokens are left in
  // the text (tokenizers' encode_special_tokens / split_special_tokens).
  void split(std::string_view text, bool skip_special, std::vector<TextSegment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
    int32_t terminal = -1;                               // index into tokens_
  };
  // Longest match starting at `pos`: end offset, or 0 with token = -1.
  size_t longest_at(std::string_view text, size_t pos, int32_t& token) const;
  std::vector<Node> nodes_{Node{}};
  std::vector<const AddedToken*> tokens_;
  std::vector<int32_t> terminals_;
  bool first_byte_[256] = {};
};

}  // namespace grpo::policies::internal
