#include "tests/report/page_data.h"

#include <gtest/gtest.h>

namespace grpo::testing {

nlohmann::json page_data(const std::string& html) {
  const std::string open = "<script id=\"grpo-data\" type=\"application/json\">";
  size_t start = html.find(open);
  if (start == std::string::npos) {
    ADD_FAILURE() << "no data block in the page";
    return nullptr;
  }
  start += open.size();
  size_t end = html.find("</script>", start);
  return nlohmann::json::parse(html.substr(start, end - start));
}

}  // namespace grpo::testing
