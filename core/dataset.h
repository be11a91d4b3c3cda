// dataset.h: the rows prompts are made from: a JSON-lines file or a seeded
// procedural task (task_generators.h), each row a JSON object whose fields the
// template and the rewards read (question, answer, nums, target, tests, ...).
//
//   Dataset d = Dataset::load_jsonl("data/train.jsonl", {"question", "answer"});
//   const DatasetRow& r = d.row(0);   // r.fields["question"], r.source == "data/train.jsonl:1"
//
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace grpo {

// One row and where it came from ("file:line" or "countdown#17").
struct DatasetRow {
  nlohmann::json fields;
  std::string source;
};

class Dataset {
 public:
  Dataset() = default;
  Dataset(std::string name, std::vector<DatasetRow> rows) : name_(std::move(name)), rows_(std::move(rows)) {}

  // Reads one JSON object per line; blank lines are skipped. Every row must
  // hold every field of `required_fields`. Any broken line is an error naming
  // file and line (nothing is dropped silently); an empty file is an error.
  static Dataset load_jsonl(const std::string& path, const std::vector<std::string>& required_fields);

  const std::string& name() const { return name_; }
  size_t size() const { return rows_.size(); }
  const DatasetRow& row(size_t i) const { return rows_.at(i); }
  const std::vector<DatasetRow>& rows() const { return rows_; }

 private:
  std::string name_;
  std::vector<DatasetRow> rows_;
};

}  // namespace grpo
