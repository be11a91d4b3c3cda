// code_reward.cpp: see code_reward.h.
#include "rewards/code_reward.h"

#include "core/error.h"
#include "rewards/reward_params.h"

namespace grpo::rewards {
namespace {

bool tag_matches(const std::string& tag, sandbox::Language language) {
  if (language == sandbox::Language::kPython) return tag == "python" || tag == "python3" || tag == "py";
  return tag == "cpp" || tag == "c++" || tag == "cxx" || tag == "cc";
}

// The answer section: the last <answer>...</answer>, else what follows </think>.
std::optional<std::string> answer_section(const std::string& text) {
  size_t open = text.rfind("<answer>");
  if (open != std::string::npos) {
    size_t start = open + 8, close = text.find("</answer>", start);
    return text.substr(start, close == std::string::npos ? std::string::npos : close - start);
  }
  size_t think = text.rfind("</think>");
  if (think != std::string::npos) return text.substr(think + 8);
  return std::nullopt;
}

nlohmann::json parse_if_string(const nlohmann::json& j) {
  if (!j.is_string()) return j;
  try {
    return nlohmann::json::parse(j.get<std::string>());
  } catch (const nlohmann::json::exception&) {
    return j;
  }
}

std::string as_text(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

std::vector<sandbox::IoCase> io_cases(const nlohmann::json& raw) {
  nlohmann::json t = parse_if_string(raw);
  std::vector<sandbox::IoCase> cases;
  auto pairs = [&](const char* in_key, const char* out_key) {
    const auto& ins = t.at(in_key);
    const auto& outs = t.at(out_key);
    for (size_t i = 0; i < std::min(ins.size(), outs.size()); ++i) cases.push_back({as_text(ins[i]), as_text(outs[i])});
  };
  if (t.is_object() && t.contains("inputs") && t.contains("outputs")) pairs("inputs", "outputs");
  else if (t.is_object() && t.contains("input") && t.contains("output") && t["input"].is_array()) pairs("input", "output");
  else if (t.is_array())
    for (const auto& c : t) cases.push_back({as_text(c.at("input")), as_text(c.at("output"))});
  else throw Error("code reward: unrecognised stdin/stdout tests; expected {\"inputs\": [...], \"outputs\": [...]} or [{\"input\", \"output\"}]");
  return cases;
}

}  // namespace

std::optional<std::string> extract_program(const std::string& completion, sandbox::Language language, const std::string& source) {
  if (source != "answer") {
    std::optional<std::string> tagged, untagged;
    size_t pos = 0;
    while (true) {
      size_t open = completion.find("```", pos);
      if (open == std::string::npos) break;
      size_t line_end = completion.find('\n', open);
      if (line_end == std::string::npos) break;
      std::string tag = completion.substr(open + 3, line_end - open - 3);
      while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\r')) tag.pop_back();
      size_t close = completion.find("```", line_end + 1);
      std::string body = completion.substr(line_end + 1, close == std::string::npos ? std::string::npos : close - line_end - 1);
      if (tag_matches(tag, language)) tagged = body;
      else if (tag.empty()) untagged = body;
      if (close == std::string::npos) break;
      pos = close + 3;
    }
    if (tagged) return tagged;
    if (untagged) return untagged;
    if (source == "fenced") return std::nullopt;
  }
  return answer_section(completion);
}

CodeReward::CodeReward(const RewardSpec& spec) {
  Params p(spec);
  CodeRewardOptions& o = options_;
  o.language = sandbox::parse_language(p.text("language", "python"));
  o.source = p.text("source", "auto");
  if (o.source != "auto" && o.source != "fenced" && o.source != "answer") p.fail("source", "must be auto, fenced or answer");
  o.format = p.text("format", "auto");
  if (o.format != "auto" && o.format != "io" && o.format != "assert") p.fail("format", "must be auto, io or assert");
  o.tests_field = p.text("tests_field", "");
  std::string mode = p.text("mode", "fraction");
  if (mode != "fraction" && mode != "all_or_nothing") p.fail("mode", "must be fraction or all_or_nothing");
  o.all_or_nothing = mode == "all_or_nothing";
  o.tests.stop_on_first_failure = p.boolean("stop_on_first_failure", false);
  double tol = p.number("float_tolerance", 0.0);
  if (tol > 0) o.tests.compare.float_tolerance = tol;
  o.tests.compare.tokens = p.boolean("tokens", false);
  o.tests.limits.cpu_ms = p.integer("cpu_ms", o.tests.limits.cpu_ms);
  o.tests.limits.wall_ms = p.integer("wall_ms", o.tests.limits.wall_ms);
  o.tests.limits.memory_mb = p.integer("memory_mb", o.tests.limits.memory_mb);
  o.sandbox.tier = p.text("tier", "auto");
  o.sandbox.accept_weaker = p.boolean("accept_weaker", false);
  o.sandbox.workers = static_cast<int>(p.integer("workers", 0));
  o.sandbox.limits = o.tests.limits;
  p.finish();
  owned_runner_ = sandbox::make_runner(o.sandbox);
  runner_ = owned_runner_.get();
  pool_ = std::make_unique<sandbox::SandboxPool>(*runner_, o.sandbox);
}

CodeReward::CodeReward(CodeRewardOptions options, sandbox::Runner& runner)
    : options_(std::move(options)), runner_(&runner) {
  options_.sandbox.limits = options_.tests.limits;
  pool_ = std::make_unique<sandbox::SandboxPool>(*runner_, options_.sandbox);
}

RewardResult CodeReward::score(const Sample& sample) const {
  std::optional<std::string> code = extract_program(sample.completion, options_.language, options_.source);
  if (!code || code->find_first_not_of(" \t\r\n") == std::string::npos) return RewardResult::of(0.0);
  const nlohmann::json& row = sample.row;
  auto has = [&](const char* k) { return row.contains(k) && !row[k].is_null(); };
  std::string format = options_.format;
  if (format == "auto") format = (has("test_list") || (has("test") && has("entry_point"))) ? "assert" : "io";
  sandbox::Program program{options_.language, *code, ""};
  sandbox::CodeTestReport report;
  if (format == "assert") {
    std::vector<std::string> snippets;
    std::string field = options_.tests_field.empty() ? (has("test_list") ? "test_list" : "test") : options_.tests_field;
    if (!has(field.c_str())) return RewardResult::failed("code reward: the row has no '" + field + "' tests");
    if (row[field].is_array()) {
      for (const auto& t : row[field]) snippets.push_back(as_text(t));
      std::string setup = (has("test_imports") ? sample.field("test_imports") : "") + "\n" + (has("test_setup_code") ? sample.field("test_setup_code") : "");
      if (has("test_imports") && row["test_imports"].is_array()) {
        setup.clear();
        for (const auto& s : row["test_imports"]) setup += as_text(s) + "\n";
        if (has("test_setup_code")) setup += sample.field("test_setup_code");
      }
      program.source = setup + "\n" + program.source;
    } else {
      std::string snippet = as_text(row[field]);
      if (has("entry_point")) snippet += "\ncheck(" + sample.field("entry_point") + ")";
      snippets.push_back(snippet);
    }
    report = sandbox::run_assert_tests(*runner_, program, snippets, options_.tests);
  } else {
    std::string field = options_.tests_field;
    if (field.empty()) field = has("input_output") ? "input_output" : has("tests") ? "tests" : "public_tests";
    if (!has(field.c_str())) return RewardResult::failed("code reward: the row has no '" + field + "' tests");
    report = sandbox::run_io_tests(*runner_, program, io_cases(row[field]), options_.tests);
  }
  if (report.sandbox_error) return RewardResult::failed("sandbox error: " + report.sandbox_detail);
  if (report.total == 0) return RewardResult::failed("code reward: the row has no test cases");
  return RewardResult::of(options_.all_or_nothing ? (report.all_passed() ? 1.0 : 0.0) : report.fraction());
}

std::vector<RewardResult> CodeReward::score_batch(const std::vector<Sample>& samples) const {
  std::vector<std::future<RewardResult>> futures;
  for (const Sample& s : samples) {
    futures.push_back(pool_->submit_job([this, &s] {
      try {
        return score(s);
      } catch (const std::exception& e) {
        return RewardResult::failed(e.what());
      }
    }));
  }
  std::vector<RewardResult> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

}  // namespace grpo::rewards
