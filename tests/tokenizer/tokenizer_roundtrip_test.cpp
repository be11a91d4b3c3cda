// decode(encode(x)) round trips on arbitrary UTF-8 (exact for DeepSeek-V3,
// NFC(x) for Qwen3), replacement characters for invalid UTF-8 from ids, the
// streaming decoder, and ids the tokenizer does not know.
#include <gtest/gtest.h>

#include <random>

#include "policies/internal/tokenizer_byte_level.h"
#include "policies/internal/tokenizer_nfc.h"
#include "policies/internal/tokenizer_utf8.h"
#include "policies/tokenizer.h"
#include "tests/tokenizer/tokenizer_test_support.h"

namespace grpo::policies {
namespace {

using grpo::testing::deepseek_v3_tokenizer;
using grpo::testing::qwen3_tokenizer;

// Random valid UTF-8 drawn from ranges that stress the pipeline: ASCII,
// whitespace, Latin with combining marks, CJK, Hangul, emoji, joiners.
std::string random_utf8(std::mt19937& rng, size_t chars) {
  static const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {0x20, 0x7E}, {0x09, 0x0D}, {0xA0, 0x17F}, {0x300, 0x36F}, {0x4E00, 0x9FA5}, {0x3040, 0x30FF},
      {0xAC00, 0xD7A3}, {0x1100, 0x11FF}, {0x1F300, 0x1F64F}, {0x200B, 0x200D}, {0x2000, 0x206F}, {0x10000, 0x10FFF}};
  std::string s;
  for (size_t i = 0; i < chars; ++i) {
    const auto& r = ranges[rng() % ranges.size()];
    internal::utf8_append(s, r.first + rng() % (r.second - r.first + 1));
  }
  return s;
}

std::string byte_token(uint8_t b) { return internal::bytes_to_byte_level(std::string(1, static_cast<char>(b))); }

TEST(TokenizerRoundTripTest, DeepSeekV3RoundTripsRandomUtf8Exactly) {
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    const std::string s = random_utf8(rng, 1 + rng() % 60);
    ASSERT_EQ(deepseek_v3_tokenizer().decode(deepseek_v3_tokenizer().encode(s)), s) << "case " << i;
  }
}

TEST(TokenizerRoundTripTest, Qwen3RoundTripsToNfc) {
  std::mt19937 rng(43);
  for (int i = 0; i < 300; ++i) {
    const std::string s = random_utf8(rng, 1 + rng() % 60);
    ASSERT_EQ(qwen3_tokenizer().decode(qwen3_tokenizer().encode(s)), internal::nfc(s)) << "case " << i;
  }
  // U+212B ANGSTROM SIGN is not NFC: it comes back as U+00C5.
  EXPECT_EQ(qwen3_tokenizer().decode(qwen3_tokenizer().encode("\xE2\x84\xAB")), "\xC3\x85");
}

TEST(TokenizerRoundTripTest, InvalidUtf8FromIdsBecomesReplacementCharacters) {
  const Tokenizer& t = qwen3_tokenizer();
  const int32_t e4 = *t.token_to_id(byte_token(0xE4)), b8 = *t.token_to_id(byte_token(0xB8));
  const int32_t x96 = *t.token_to_id(byte_token(0x96)), ff = *t.token_to_id(byte_token(0xFF));
  const int32_t a = *t.token_to_id("a");
  EXPECT_EQ(t.decode({e4, b8, x96}), "\xE4\xB8\x96");                  // 世 from three byte tokens
  EXPECT_EQ(t.decode({e4, b8, a}), "\xEF\xBF\xBD" "a");               // truncated sequence: one U+FFFD
  EXPECT_EQ(t.decode({ff, ff}), "\xEF\xBF\xBD\xEF\xBF\xBD");          // each invalid byte: one U+FFFD
  EXPECT_EQ(t.decode({x96, a}), "\xEF\xBF\xBD" "a");                  // lone continuation byte
}

TEST(TokenizerRoundTripTest, RandomIdsAlwaysDecodeToValidUtf8) {
  std::mt19937 rng(44);
  for (int i = 0; i < 500; ++i) {
    std::vector<int32_t> ids(1 + rng() % 10);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % deepseek_v3_tokenizer().vocab_size());
    const std::string text = deepseek_v3_tokenizer().decode(ids);
    ASSERT_EQ(internal::utf8_lossy(text), text) << "case " << i;
  }
}

TEST(TokenizerRoundTripTest, InvalidUtf8TextEncodesByteByByte) {
  // Text that is not UTF-8 still encodes (byte-level BPE covers every byte)
  // and decodes to the lossy reading of those bytes.
  const std::string bad = "ok \xFF\xFE end \xE4\xB8";
  EXPECT_EQ(qwen3_tokenizer().decode(qwen3_tokenizer().encode(bad)), internal::utf8_lossy(bad));
  EXPECT_EQ(deepseek_v3_tokenizer().decode(deepseek_v3_tokenizer().encode(bad)), internal::utf8_lossy(bad));
}

TEST(TokenizerRoundTripTest, UnknownIdsAreSkipped) {
  const int32_t a = *qwen3_tokenizer().token_to_id("a");
  EXPECT_EQ(qwen3_tokenizer().decode({a, -5, 10000000, a}), "aa");
}

TEST(TokenizerRoundTripTest, SkipSpecialTokensDropsOnlySpecialOnes) {
  const Tokenizer& t = qwen3_tokenizer();
  const auto ids = t.encode("<|im_start|>user\n<think>x</think><|im_end|>");
  EXPECT_EQ(t.decode(ids, /*skip_special_tokens=*/true), "user\n<think>x</think>");  // <think> is not special
  EXPECT_EQ(t.decode(ids), "<|im_start|>user\n<think>x</think><|im_end|>");
}

TEST(StreamDecoderTest, HoldsBackPartialCharacters) {
  const Tokenizer& t = deepseek_v3_tokenizer();
  // "😀" is F0 9F 98 80: feed it byte token by byte token.
  StreamDecoder d(t);
  EXPECT_EQ(d.push(*t.token_to_id(byte_token(0xF0))), "");
  EXPECT_EQ(d.push(*t.token_to_id(byte_token(0x9F))), "");
  EXPECT_EQ(d.push(*t.token_to_id(byte_token(0x98))), "");
  EXPECT_EQ(d.push(*t.token_to_id(byte_token(0x80))), "\xF0\x9F\x98\x80");
  EXPECT_EQ(d.push(*t.token_to_id(byte_token(0xE4))), "");
  EXPECT_EQ(d.finish(), "\xEF\xBF\xBD");
}

TEST(StreamDecoderTest, ConcatenationEqualsDecode) {
  std::mt19937 rng(45);
  for (int i = 0; i < 50; ++i) {
    const auto ids = qwen3_tokenizer().encode(random_utf8(rng, 40));
    StreamDecoder d(qwen3_tokenizer());
    std::string streamed;
    for (int32_t id : ids) streamed += d.push(id);
    streamed += d.finish();
    ASSERT_EQ(streamed, qwen3_tokenizer().decode(ids));
  }
}

TEST(TokenizerBatchTest, BatchEqualsOneByOne) {
  std::mt19937 rng(46);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back(random_utf8(rng, 80));
  const auto batch = qwen3_tokenizer().encode_batch(texts, 4);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i], qwen3_tokenizer().encode(texts[i]));
}

TEST(TokenizerVocabTest, KnowsSizesAndSpecialTokens) {
  EXPECT_EQ(qwen3_tokenizer().vocab_size(), 151669);
  EXPECT_EQ(deepseek_v3_tokenizer().vocab_size(), 128815);
  EXPECT_EQ(*qwen3_tokenizer().token_to_id("<|im_end|>"), 151645);
  EXPECT_TRUE(qwen3_tokenizer().is_special(151645));
  EXPECT_FALSE(qwen3_tokenizer().is_special(151667));  // <think>
  EXPECT_EQ(*deepseek_v3_tokenizer().token_to_id("<｜end▁of▁sentence｜>"), 1);
  EXPECT_EQ(deepseek_v3_tokenizer().id_to_token(128803), "<｜User｜>");
  EXPECT_FALSE(deepseek_v3_tokenizer().is_special(128803));
  EXPECT_TRUE(deepseek_v3_tokenizer().is_special(128799));  // <｜place▁holder▁no▁799｜> in V3 (R1 renames it </think>)
  EXPECT_GT(qwen3_tokenizer().memory_bytes(), 1000000u);
}

}  // namespace
}  // namespace grpo::policies
