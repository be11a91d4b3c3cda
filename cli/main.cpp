// main.cpp: the `grpo` binary. Parses the command line with CLI11 and runs the
// chosen subcommand. Exit codes: 0 success, 1 runtime failure (one-line
// cause), 2 usage error (message and a suggestion).
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "core/did_you_mean.h"
#include "core/error.h"
#include "core/log.h"
#include "core/torch_runtime.h"

namespace {

constexpr int kUsageError = 2;
constexpr int kRuntimeError = 1;

std::vector<std::string> subcommand_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app->get_options()) {
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
  }
  return names;
}

// The deepest subcommand the user reached, for a targeted --help hint.
const CLI::App* deepest_parsed(const CLI::App* app) {
  for (const CLI::App* sub : app->get_subcommands()) return deepest_parsed(sub);
  return app;
}

int report_usage_error(const CLI::App& root, const CLI::ParseError& e) {
  const CLI::App* at = deepest_parsed(&root);
  std::string message = e.what();
  // An unknown word where a subcommand was expected: name it and suggest the nearest.
  std::vector<std::string> remaining = at->remaining();
  if (remaining.empty()) remaining = root.remaining();
  std::vector<std::string> names = subcommand_names(at);
  if (!remaining.empty() && !names.empty() && remaining.front().rfind("-", 0) != 0) {
    message = "unknown command '" + remaining.front() + "'" + grpo::did_you_mean(remaining.front(), names);
  } else if (!remaining.empty()) {
    message += grpo::did_you_mean(remaining.front(), option_names(at));
  }
  std::string path = "grpo";
  for (const CLI::App* a = at; a != &root && a != nullptr; a = a->get_parent()) path.insert(4, " " + a->get_name());
  std::cerr << "grpo: usage error: " << message << "\n"
            << "Run '" << path << " --help' for usage.\n";
  return kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  grpo::ensure_openmp_wait_policy(argc, argv);
  grpo::keep_freed_memory_for_reuse();
  CLI::App app{"grpo: GRPO post-training of language models (DeepSeek-R1 style), in one binary.", "grpo"};
  app.require_subcommand(1);
  app.fallthrough();  // root options (--log-level) may follow the subcommand
  std::string log_level = "info";
  CLI::Option* log_option = app.add_option("--log-level", log_level, "Least severe log level shown (default: the recipe's run.log_level, else info)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.parse_complete_callback([&] {
    if (log_option->count() > 0) grpo::log::set_level_from_command_line(grpo::log::parse_level(log_level));
  });

  grpo::cli::add_config_command(app);
  grpo::cli::add_score_command(app);
  grpo::cli::add_version_command(app);
  grpo::cli::add_sandbox_command(app);
  grpo::cli::add_rollout_worker_command(app);
  grpo::cli::add_generate_command(app);
  grpo::cli::add_train_command(app);
  grpo::cli::add_sft_command(app);
  grpo::cli::add_data_command(app);
  grpo::cli::add_tokenizer_command(app);
  grpo::cli::add_model_command(app);
  grpo::cli::add_report_command(app);
  grpo::cli::add_eval_command(app);
  grpo::cli::add_serve_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report_usage_error(app, e);
  } catch (const grpo::Error& e) {
    std::cerr << "grpo: error: " << e.what() << "\n";
    return kRuntimeError;
  } catch (const std::exception& e) {
    std::cerr << "grpo: error: " << e.what() << "\n";
    return kRuntimeError;
  }
  return 0;
}
