// page_data.h: the JSON a report page embeds, parsed back for assertions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace grpo::testing {

// Parses the <script id="grpo-data"> block of a report page; fails the test
// (and returns null) when the page has none.
nlohmann::json page_data(const std::string& html);

}  // namespace grpo::testing
