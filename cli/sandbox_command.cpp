// `grpo sandbox run|doctor`: run one program in the sandbox and print its
// verdict and outputs as JSON; report which isolation layers this host allows.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "core/config_fields.h"
#include "core/error.h"
#include "sandbox/doctor.h"
#include "sandbox/runner.h"

namespace grpo::cli {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

sandbox::Language language_of(const std::string& file, const std::string& given) {
  if (!given.empty()) return sandbox::parse_language(given);
  for (const char* ext : {".cpp", ".cc", ".cxx"}) {
    const std::string e = ext;
    if (file.size() > e.size() && file.compare(file.size() - e.size(), e.size(), e) == 0) return sandbox::Language::kCpp;
  }
  return sandbox::Language::kPython;
}

struct Args {
  std::string file, stdin_file, limits_json, language, tier = "auto";
  bool accept_weaker = false, json = false;
};

sandbox::SandboxConfig config_of(const Args& a) {
  sandbox::SandboxConfig config;
  config.tier = a.tier;
  config.accept_weaker = a.accept_weaker;
  if (!a.limits_json.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(a.limits_json);
    } catch (const nlohmann::json::parse_error& e) {
      throw ConfigError("--limits", "", std::string("not valid JSON: ") + e.what());
    }
    config.limits = read_config<sandbox::Limits>(j, Origins("--limits"), "limits");
  }
  return config;
}

}  // namespace

void add_sandbox_command(CLI::App& root) {
  CLI::App* sandbox = root.add_subcommand("sandbox", "Run untrusted programs in the sandbox; check what this host allows");
  sandbox->require_subcommand(1);
  auto args = std::make_shared<Args>();
  const std::vector<std::string> tiers = {"auto", "namespace", "landlock"};

  CLI::App* run = sandbox->add_subcommand("run", "Run FILE (Python, or C++ by extension) and print the verdict and outputs as JSON");
  run->add_option("file", args->file, "Program source")->required()->check(CLI::ExistingFile);
  run->add_option("--stdin", args->stdin_file, "File fed to the program's stdin")->check(CLI::ExistingFile);
  run->add_option("--limits", args->limits_json, "Limits as JSON, e.g. '{\"cpu_ms\": 1000, \"memory_mb\": 128}' (see docs/sandbox.md)");
  run->add_option("--language", args->language, "python or cpp (default: from the extension)");
  run->add_option("--tier", args->tier, "Isolation tier")->check(CLI::IsMember(tiers));
  run->add_flag("--accept-weaker", args->accept_weaker, "Run even if some isolation layer is unavailable");
  run->callback([args] {
    sandbox::SandboxConfig config = config_of(*args);
    auto runner = sandbox::make_runner(config);
    sandbox::Program program;
    program.language = language_of(args->file, args->language);
    program.source = slurp(args->file);
    if (!args->stdin_file.empty()) program.stdin_text = slurp(args->stdin_file);
    nlohmann::json out = runner->run(program, config.limits).to_json();
    out["tier"] = runner->plan().tier;
    std::cout << out.dump(2) << "\n";
  });

  CLI::App* doctor = sandbox->add_subcommand("doctor", "Report the isolation tier and which layers are active on this host");
  doctor->add_option("--tier", args->tier, "Isolation tier to plan for")->check(CLI::IsMember(tiers));
  doctor->add_flag("--accept-weaker", args->accept_weaker, "Plan as if the recipe accepted a weaker level");
  doctor->add_flag("--json", args->json, "Print JSON instead of text");
  doctor->callback([args] {
    sandbox::SandboxConfig config = config_of(*args);
    sandbox::SandboxPlan plan = sandbox::plan_sandbox(sandbox::probe_capabilities(config), config);
    if (args->json) std::cout << plan.to_json().dump(2) << "\n";
    else std::cout << plan.to_text();
  });
}

}  // namespace grpo::cli
