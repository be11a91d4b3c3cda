#include "core/task_generators.h"

#include <set>
#include <sstream>

#include "core/did_you_mean.h"
#include "core/error.h"
#include "core/seeded_random.h"

namespace grpo {
namespace {

// Reads an integer parameter, rejecting unknown keys elsewhere.
int64_t int_param(const nlohmann::json& params, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  std::string path = std::string("data.generator_params.") + key;
  if (!it->is_number_integer()) throw ConfigError("", path, "expected an integer, got " + it->dump());
  int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) throw ConfigError("", path, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
  return v;
}

void reject_unknown(const nlohmann::json& params, const std::vector<std::string>& known) {
  if (!params.is_object()) throw ConfigError("", "data.generator_params", "expected an object");
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end())
      throw ConfigError("", "data.generator_params." + it.key(), "unknown parameter" + did_you_mean(it.key(), known));
  }
}

// Combines the numbers in random order with random operators; every
// intermediate value stays a positive integer so a solution always exists.
bool try_countdown(SeededRandom& rng, std::vector<int64_t> nums, int64_t max_target, int64_t& target) {
  rng.shuffle(nums);
  int64_t acc = nums[0];
  for (size_t i = 1; i < nums.size(); ++i) {
    int64_t x = nums[i];
    switch (rng.below(4)) {
      case 0: acc = acc + x; break;
      case 1: acc = acc > x ? acc - x : x - acc; break;
      case 2: acc = acc * x; break;
      default:
        if (x != 0 && acc % x == 0) acc /= x;
        else if (acc != 0 && x % acc == 0) acc = x / acc;
        else acc = acc + x;
    }
    if (acc > 100000) return false;
  }
  target = acc;
  return acc >= 1 && acc <= max_target;
}

DatasetRow countdown_row(SeededRandom& rng, const nlohmann::json& params, int64_t index) {
  int64_t min_n = int_param(params, "min_numbers", 3, 2, 6);
  int64_t max_n = int_param(params, "max_numbers", 4, min_n, 6);
  int64_t max_number = int_param(params, "max_number", 99, 1, 1000);
  int64_t max_target = int_param(params, "max_target", 100, 1, 100000);
  while (true) {
    int64_t k = rng.between(min_n, max_n);
    std::vector<int64_t> nums;
    for (int64_t i = 0; i < k; ++i) nums.push_back(rng.between(1, max_number));
    int64_t target = 0;
    if (!try_countdown(rng, nums, max_target, target)) continue;
    std::ostringstream list;
    for (size_t i = 0; i < nums.size(); ++i) list << (i ? ", " : "") << nums[i];
    std::string question = "Using the numbers [" + list.str() + "], create an equation that equals " +
                           std::to_string(target) +
                           ". You can use basic arithmetic operations (+, -, *, /) and each number can only be used once.";
    nlohmann::json row = {{"question", question}, {"nums", nums}, {"target", target}, {"answer", std::to_string(target)}};
    return {row, "countdown#" + std::to_string(index)};
  }
}

DatasetRow arithmetic_row(SeededRandom& rng, const nlohmann::json& params, int64_t index) {
  int64_t max_operand = int_param(params, "max_operand", 100, 1, 1000000);
  auto ops_it = params.find("ops");
  if (ops_it != params.end() && !ops_it->is_string())
    throw ConfigError("", "data.generator_params.ops", "expected a string such as \"+-*\", got " + ops_it->dump());
  std::string ops = ops_it == params.end() ? "+-*" : ops_it->get<std::string>();
  if (ops.empty() || ops.find_first_not_of("+-*") != std::string::npos)
    throw ConfigError("", "data.generator_params.ops", "must be a non-empty string of + - *, got \"" + ops + "\"");
  int64_t a = rng.between(0, max_operand), b = rng.between(0, max_operand);
  char op = ops[rng.below(ops.size())];
  int64_t value = op == '+' ? a + b : op == '-' ? a - b : a * b;
  std::string expression = std::to_string(a) + " " + op + " " + std::to_string(b);
  // The expression on its own lets a template restate the problem (e.g. open
  // the thought with it); it holds no more than the question does.
  return {{{"question", "What is " + expression + "?"}, {"expression", expression}, {"answer", std::to_string(value)}},
          "arithmetic#" + std::to_string(index)};
}

std::vector<DatasetRow> generate_rows(const std::string& name, int64_t size, uint64_t seed, const nlohmann::json& params,
                                      const std::set<std::string>& exclude) {
  if (name == "countdown") reject_unknown(params, {"min_numbers", "max_numbers", "max_number", "max_target"});
  else if (name == "arithmetic") reject_unknown(params, {"max_operand", "ops"});
  else throw ConfigError("", "data.generator", "unknown task '" + name + "': use countdown or arithmetic" + did_you_mean(name, {"countdown", "arithmetic"}));
  SeededRandom rng(seed);
  std::vector<DatasetRow> rows;
  std::set<std::string> seen = exclude;
  // Small parameter spaces hold few distinct problems: stop trying after
  // many duplicates rather than loop forever.
  for (int64_t attempts = 0; static_cast<int64_t>(rows.size()) < size && attempts < size * 50 + 1000; ++attempts) {
    DatasetRow r = name == "countdown" ? countdown_row(rng, params, attempts) : arithmetic_row(rng, params, attempts);
    if (!seen.insert(r.fields["question"].get<std::string>()).second) continue;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

Dataset generate_task(const std::string& name, int64_t size, uint64_t seed, const nlohmann::json& params) {
  return Dataset(name, generate_rows(name, size, seed, params, {}));
}

TaskSplit generate_task_split(const std::string& name, int64_t train_size, int64_t eval_size, uint64_t seed,
                              const nlohmann::json& params) {
  // Held-out problems are drawn first and then excluded from training.
  std::vector<DatasetRow> eval = generate_rows(name, eval_size, mix_seed(seed, 2), params, {});
  std::set<std::string> held_out;
  for (const auto& r : eval) held_out.insert(r.fields["question"].get<std::string>());
  std::vector<DatasetRow> train = generate_rows(name, train_size, mix_seed(seed, 1), params, held_out);
  return {Dataset(name + "/train", std::move(train)), Dataset(name + "/eval", std::move(eval))};
}

}  // namespace grpo
