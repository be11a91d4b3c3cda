// The HTML report: what the page embeds (checked by parsing its data block),
// that it stays self-contained and safe with hostile text, and that it reads
// a run still being written.
#include "report/html_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/run_store.h"
#include "tests/report/fake_run.h"
#include "tests/report/page_data.h"
#include "tests/support/test_env.h"

namespace grpo::report {
namespace {

using grpo::testing::TempDir;
using nlohmann::json;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HtmlReportTest, PageIsSelfContained) {
  TempDir d;
  RunStore store(d.file("run.db"));
  grpo::testing::write_fake_run(store, {});
  std::string html = render_html_report(store);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  // Nothing is fetched: no external scripts, styles, fonts or images.
  for (const char* fetch : {"<script src", "<link", "@import", "url(http", "src=\"http", "href=\"http"})
    EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;
  json data = grpo::testing::page_data(html);
  EXPECT_EQ(data["title"], "fake-r1-zero");
  EXPECT_EQ(data["steps"]["count"], 60);
  EXPECT_EQ(data["meta"]["status"], "running");
  EXPECT_EQ(data["checkpoints"].size(), 3u);
  EXPECT_EQ(data["events"][0]["source"], "rollout w1");
  EXPECT_EQ(data["sections"][0]["key"], "reward");
  EXPECT_EQ(data["metrics"]["reward/mean"].size(), 60u);
  EXPECT_EQ(data["metrics"]["moe/layer1/expert3/load"].size(), 60u);
  // 60 steps x 4 groups x 4 completions; a group's 4 completions share one prompt.
  EXPECT_EQ(data["samples"].size(), 960u);
  EXPECT_EQ(data["prompts"].size(), 240u);
}

TEST(HtmlReportTest, SampleValuesAreEmbeddedExactly) {
  TempDir d;
  RunStore store(d.file("run.db"));
  grpo::testing::FakeRunShape shape;
  shape.steps = 3;
  grpo::testing::write_fake_run(store, shape);
  json data = grpo::testing::page_data(render_html_report(store));
  SampleRecord want = store.samples(2).at(5);
  const json* got = nullptr;
  for (const json& s : data["samples"])
    if (s["step"] == 2 && s["group"] == want.group && s["index"] == want.index) got = &s;
  ASSERT_NE(got, nullptr);
  EXPECT_EQ((*got)["completion"], want.completion);
  EXPECT_EQ(data["prompts"][(*got)["prompt"].get<size_t>()], want.prompt);
  EXPECT_EQ((*got)["reward"], want.reward);
  EXPECT_EQ((*got)["advantage"], want.advantage);
  EXPECT_EQ((*got)["rewards"]["accuracy"], want.rewards.at("accuracy"));
  EXPECT_EQ((*got)["finish"], want.finish_reason);
}

TEST(HtmlReportTest, HostileCompletionTextCannotEndTheDataBlock) {
  TempDir d;
  RunStore store(d.file("run.db"));
  StepRecord r;
  r.step = 1;
  r.metrics["reward/mean"] = 1.0;
  SampleRecord s;
  s.prompt = "<!-- <script>";
  s.completion = "</script><script>document.body.innerHTML='pwned'</script> \xF0\x9F\x98 cut emoji";
  r.samples.push_back(s);
  store.write_step(r);
  std::string html = render_html_report(store);
  // Only the page's own two script blocks close: data and drawing code.
  EXPECT_EQ(count(html, "</script>"), 2u);
  json data = grpo::testing::page_data(html);
  std::string completion = data["samples"][0]["completion"];
  EXPECT_EQ(completion.rfind("</script><script>document.body", 0), 0u);
  EXPECT_NE(completion.find("\xEF\xBF\xBD"), std::string::npos);  // invalid UTF-8 became U+FFFD
  EXPECT_EQ(data["prompts"][0], "<!-- <script>");
}

TEST(HtmlReportTest, LongRunsAreAveragedIntoAtMostMaxPoints) {
  TempDir d;
  RunStore store(d.file("run.db"));
  for (int64_t step = 1; step <= 5000; ++step) {
    StepRecord r;
    r.step = step;
    r.metrics["x"] = static_cast<double>(step);
    store.write_step(r);
  }
  ReportOptions options;
  options.max_points = 1000;
  json data = grpo::testing::page_data(render_html_report(store, options));
  const json& x = data["metrics"]["x"];
  ASSERT_EQ(x.size(), 1000u);
  // Steps 1..5 share the first range of 5: shown at step 5, their mean 3.
  EXPECT_EQ(x[0][0], 5);
  EXPECT_EQ(x[0][1], 3.0);
  EXPECT_EQ(x[999][0], 5000);
  EXPECT_EQ(x[999][1], 4998.0);
}

TEST(HtmlReportTest, SamplesAreThinnedToTheBudgetKeepingTheLatestStep) {
  TempDir d;
  RunStore store(d.file("run.db"));
  grpo::testing::FakeRunShape shape;  // 16 samples per step, 60 steps
  grpo::testing::write_fake_run(store, shape);
  ReportOptions options;
  options.max_samples = 160;  // room for 10 of the 60 steps
  json data = grpo::testing::page_data(render_html_report(store, options));
  EXPECT_LE(data["samples"].size(), 160u);
  EXPECT_EQ(data["sample_steps"]["total"], 60);
  EXPECT_EQ(data["sample_steps"]["shown"], 10);
  std::set<int64_t> steps;
  for (const json& s : data["samples"]) steps.insert(s["step"].get<int64_t>());
  EXPECT_EQ(*steps.rbegin(), 60);
  EXPECT_EQ(*steps.begin(), 6);  // every 6th step back from 60
}

TEST(HtmlReportTest, ReadsARunThatIsStillBeingWritten) {
  TempDir d;
  RunStore writer(d.file("run.db"));
  grpo::testing::FakeRunShape shape;
  for (int64_t step = 1; step <= 3; ++step) writer.write_step(grpo::testing::fake_step(step, shape));
  RunStore reader(d.file("run.db"), RunStore::Mode::kReadOnly);
  write_html_report(reader, d.file("report.html"));
  EXPECT_EQ(grpo::testing::page_data(grpo::testing::read_file(d.file("report.html")))["steps"]["count"], 3);
  for (int64_t step = 4; step <= 5; ++step) writer.write_step(grpo::testing::fake_step(step, shape));
  write_html_report(reader, d.file("report.html"));  // replaces the page
  json data = grpo::testing::page_data(grpo::testing::read_file(d.file("report.html")));
  EXPECT_EQ(data["steps"]["count"], 5);
  EXPECT_EQ(data["metrics"]["kl/mean"].size(), 5u);
}

TEST(HtmlReportTest, AnEmptyRunStillRenders) {
  TempDir d;
  RunStore store(d.file("run.db"));
  json data = grpo::testing::page_data(render_html_report(store));
  EXPECT_EQ(data["steps"]["count"], 0);
  EXPECT_TRUE(data["sections"].empty());
  EXPECT_TRUE(data["samples"].empty());
}

}  // namespace
}  // namespace grpo::report
