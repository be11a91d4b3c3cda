#include "core/dataset.h"

#include <fstream>

#include "core/error.h"

namespace grpo {

Dataset Dataset::load_jsonl(const std::string& path, const std::vector<std::string>& required_fields) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open dataset file");
  std::vector<DatasetRow> rows;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = path + ":" + std::to_string(number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw IoError(where, std::string("not valid JSON (") + e.what() + ")");
    }
    if (!j.is_object()) throw IoError(where, "expected a JSON object per line");
    for (const auto& field : required_fields) {
      if (!j.contains(field)) {
        std::string have;
        for (auto it = j.begin(); it != j.end(); ++it) have += (have.empty() ? "" : ", ") + it.key();
        throw IoError(where, "missing field '" + field + "' (row has: " + have +
                                 "); set data.prompt_field / data.answer_field to the names your file uses");
      }
    }
    rows.push_back({std::move(j), where});
  }
  if (rows.empty()) throw IoError(path, "dataset is empty");
  return Dataset(path, std::move(rows));
}

}  // namespace grpo
