// report_page.h (report-internal): the fixed parts of the HTML report: its
// stylesheet and the script that draws every chart and the sample browser
// from the JSON embedded in the page (<script id="grpo-data">). No network:
// the page is one file that opens anywhere.
#pragma once

namespace grpo::report::internal {

// <!doctype html> ... <style> ... up to the data script tag's opening.
const char* report_page_head();
// The drawing script (plain ES2017, no libraries), inside <script> tags,
// and the closing of the page.
const char* report_page_tail();

}  // namespace grpo::report::internal
