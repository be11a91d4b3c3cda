#include "core/wire_message.h"

#include <gtest/gtest.h>

#include <random>

#include "core/error.h"

namespace grpo {
namespace {

WireMessage sample_message() { return WireMessage{"result", {{"request_id", 7}, {"version", 3}}, {"abc", std::string(1000, '\0'), ""}}; }

TEST(WireMessageTest, RoundTrips) {
  auto parts = encode_message(sample_message());
  ASSERT_EQ(parts.size(), 4u);
  WireMessage back = decode_message(parts, "test");
  EXPECT_EQ(back.type, "result");
  EXPECT_EQ(back.fields["request_id"], 7);
  EXPECT_EQ(back.frames, sample_message().frames);
}

TEST(WireMessageTest, Crc32MatchesZlib) {
  // zlib.crc32(b"123456789") == 0xCBF43926, the standard check value.
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
}

TEST(WireMessageTest, RejectsBadJson) { EXPECT_THROW(decode_message({"{not json"}, "p"), ProtocolError); }

TEST(WireMessageTest, RejectsOldProtocolVersion) {
  auto parts = encode_message(sample_message());
  auto header = nlohmann::json::parse(parts[0]);
  header["grpo"] = kWireProtocolVersion - 1;
  parts[0] = header.dump();
  try {
    decode_message(parts, "worker w1");
    FAIL();
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("protocol version"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("worker w1"), std::string::npos) << e.what();
  }
}

TEST(WireMessageTest, RejectsWrongSizeAndChecksum) {
  auto parts = encode_message(sample_message());
  auto truncated = parts;
  truncated[1] = "ab";
  EXPECT_THROW(decode_message(truncated, "p"), ProtocolError);
  auto flipped = parts;
  flipped[2][500] = 1;
  EXPECT_THROW(decode_message(flipped, "p"), ProtocolError);
  auto missing = parts;
  missing.pop_back();
  EXPECT_THROW(decode_message(missing, "p"), ProtocolError);
}

TEST(WireMessageTest, RandomGarbageNeverCrashes) {
  // 5000 random multipart messages, half of them mutations of a valid one:
  // each either decodes or raises ProtocolError.
  std::mt19937 rng(42);
  auto valid = encode_message(sample_message());
  int rejected = 0;
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::string> parts;
    if (i % 2 == 0) {
      int n = rng() % 4;
      for (int k = 0; k < n; ++k) {
        std::string f(rng() % 64, '\0');
        for (char& c : f) c = static_cast<char>(rng());
        parts.push_back(f);
      }
    } else {
      parts = valid;
      auto& f = parts[rng() % parts.size()];
      if (!f.empty()) f[rng() % f.size()] = static_cast<char>(rng());
    }
    try {
      decode_message(parts, "fuzz");
    } catch (const ProtocolError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 2500);
}

}  // namespace
}  // namespace grpo
