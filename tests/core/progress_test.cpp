#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace grpo {
namespace {

std::string captured(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(ProgressTest, FormatsDurations) {
  EXPECT_EQ(Progress::format_duration(42), "42s");
  EXPECT_EQ(Progress::format_duration(185), "3m05s");
  EXPECT_EQ(Progress::format_duration(3720), "1h02m");
  EXPECT_EQ(Progress::format_duration(-1), "?");
}

TEST(ProgressTest, LineHasStepRewardAccuracyThroughputAndEta) {
  std::FILE* f = std::tmpfile();
  Progress p(100, 10, f, /*terminal=*/false);
  p.update({1, 0.0, std::nullopt, 0});
  // 1 step done in 2 s -> 98 steps left take 196 s.
  EXPECT_EQ(p.format({2, 0.25, 0.5, 1234}, 4.0), "step 2/100 | reward 0.250 | acc 50% | 1234 tok/s | ETA 3m16s");
  std::fclose(f);
}

TEST(ProgressTest, PlainOutputPrintsEveryNthStepOnly) {
  std::FILE* f = std::tmpfile();
  Progress p(20, 10, f, /*terminal=*/false);
  for (int s = 1; s <= 20; ++s) p.update({s, 0.1, std::nullopt, 10});
  p.finish();
  std::string out = captured(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("step 10/20"), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos) << "no terminal codes in plain mode";
  std::fclose(f);
}

TEST(ProgressTest, TerminalOutputRedrawsInPlace) {
  std::FILE* f = std::tmpfile();
  Progress p(3, 10, f, /*terminal=*/true);
  for (int s = 1; s <= 3; ++s) p.update({s, 0.1, std::nullopt, 10});
  p.finish();
  std::string out = captured(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 3);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  std::fclose(f);
}

}  // namespace
}  // namespace grpo
