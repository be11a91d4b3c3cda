// End to end in a real browser: headless Chromium (Debian's `chromium`,
// installed by scripts/setup.sh) loads a report of a realistic fake run,
// runs its script, and we check the resulting DOM: every planned chart drawn
// with non-empty geometry, the sample browser filled and filtered (by step and
// reward, from the URL fragment), hostile text inert.
// The page and a screenshot stay in the build tree as artifacts:
// <build>/tests/report/report_artifacts/{fake_run_report.html,fake_run_report.png}.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/run_store.h"
#include "report/chart_plan.h"
#include "report/html_report.h"
#include "tests/report/fake_run.h"
#include "tests/support/test_env.h"

namespace grpo::report {
namespace {

using grpo::testing::run_command;
using grpo::testing::shell_quote;
using grpo::testing::TempDir;

std::string chromium() {
  const char* env = std::getenv("GRPO_CHROMIUM");
  return env && *env ? env : "chromium";
}

// Runs headless Chromium on `url` with `args`; its profile lives in `profile_dir`.
grpo::testing::CommandResult run_chromium(const std::string& profile_dir, const std::string& args,
                                          const std::string& url) {
  return run_command("timeout 120 " + chromium() +
                     " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars"
                     " --no-first-run --user-data-dir=" + shell_quote(profile_dir) + " " + args + " " +
                     shell_quote(url));
}

// The DOM of one chart card: from its opening tag to the next card.
std::string card_dom(const std::string& dom, const std::string& id) {
  size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  size_t end = dom.find("class=\"card chart\"", at);
  return dom.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

TEST(ReportBrowserTest, ChromiumDrawsEveryChartAndTheSampleBrowser) {
  ASSERT_EQ(run_command(chromium() + " --version").exit_code, 0)
      << "headless Chromium is needed for this test: run scripts/setup.sh (Debian package chromium) or set GRPO_CHROMIUM";
  TempDir d;
  RunStore store(d.file("run.db"));
  grpo::testing::FakeRunShape shape;
  grpo::testing::write_fake_run(store, shape);
  StepRecord hostile;  // newest step, so its sample is the first card shown
  hostile.step = shape.steps + 1;
  hostile.metrics = grpo::testing::fake_step(hostile.step, shape).metrics;
  SampleRecord s;
  s.prompt = "p";
  s.completion = "<b id=\"injected\">bold?</b></script><img src=x onerror=alert(1)>";
  s.rewards = {{"accuracy", 0.0}};
  s.finish_reason = "stop";
  hostile.samples.push_back(s);
  store.write_step(hostile);

  std::filesystem::path artifacts = std::filesystem::current_path() / "report_artifacts";
  std::filesystem::create_directories(artifacts);
  std::string html = (artifacts / "fake_run_report.html").string();
  std::string png = (artifacts / "fake_run_report.png").string();
  write_html_report(store, html);
  std::string url = "file://" + html;

  auto dom = run_chromium(d.file("profile"), "--virtual-time-budget=10000 --dump-dom", url);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_NE(dom.out.find("data-ready=\"1\""), std::string::npos) << "the page script did not finish";
  EXPECT_NE(dom.out.find("<div id=\"render-error\"></div>"), std::string::npos) << "the page reported an error";

  size_t charts = 0;
  for (const Section& section : plan_charts(store.metric_names())) {
    EXPECT_NE(dom.out.find("id=\"sec-" + section.key + "\""), std::string::npos) << section.key;
    for (const Chart& chart : section.charts) {
      ++charts;
      std::string card = card_dom(dom.out, chart.id);
      ASSERT_FALSE(card.empty()) << "chart " << chart.title << " missing";
      EXPECT_NE(card.find("data-rendered=\"1\""), std::string::npos) << chart.title;
      EXPECT_NE(card.find("<svg"), std::string::npos) << chart.title;
      // Non-empty geometry: a path that starts with a move-to, or the heatmap image.
      const char* drawn = chart.kind == ChartKind::kHeatmap ? "class=\"heatmap\" href=\"data:image/png;base64,"
                          : chart.kind == ChartKind::kStacked ? "class=\"series area\" d=\"M"
                                                              : "class=\"series\" d=\"M";
      EXPECT_NE(card.find(drawn), std::string::npos) << chart.title << " drew nothing";
    }
  }
  EXPECT_GE(charts, 20u);
  EXPECT_NE(dom.out.find("data-charts=\"" + std::to_string(charts) + "\""), std::string::npos);

  // Sample browser: first page of 40 of the 961 samples, newest step first.
  size_t cards = 0;
  for (size_t at = dom.out.find("class=\"sample\""); at != std::string::npos; at = dom.out.find("class=\"sample\"", at + 1))
    ++cards;
  EXPECT_EQ(cards, 40u);
  EXPECT_NE(dom.out.find("961 of 961 samples match"), std::string::npos);
  // Hostile completion text stays text.
  EXPECT_EQ(dom.out.find("<b id=\"injected\""), std::string::npos);
  EXPECT_EQ(dom.out.find("<img src=\"x\""), std::string::npos);
  EXPECT_NE(dom.out.find("&lt;b id=\"injected\"&gt;"), std::string::npos);

  // Filters from the URL fragment, as a shared link would carry them.
  size_t want = 0;
  for (const SampleRecord& x : store.samples(60)) want += x.reward >= 2.0;
  ASSERT_GT(want, 0u);
  auto filtered = run_chromium(d.file("profile"), "--virtual-time-budget=10000 --dump-dom", url + "#step=60&rmin=2");
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_NE(filtered.out.find(std::to_string(want) + " of 961 samples match; showing " + std::to_string(want)),
            std::string::npos);
  EXPECT_EQ(filtered.out.find("<b>step 59</b>"), std::string::npos);

  auto shot = run_chromium(d.file("profile"), "--window-size=1400,2600 --virtual-time-budget=10000 --screenshot=" + shell_quote(png), url);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(std::filesystem::exists(png)) << shot.err;
  EXPECT_GT(std::filesystem::file_size(png), 50000u) << "screenshot suspiciously small: blank page?";
}

}  // namespace
}  // namespace grpo::report
