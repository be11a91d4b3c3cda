// `grpo version`: the toolkit's version and the LibTorch runtime it runs on.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "core/version.h"
#include "core/torch_runtime.h"

namespace grpo::cli {

void add_version_command(CLI::App& root) {
  CLI::App* version = root.add_subcommand("version", "Print the grpo version and its LibTorch runtime");
  version->callback([] {
    configure_torch_threads();
    std::cout << "grpo " << kVersion << "\n" << torch_runtime_summary() << "\n";
  });
}

}  // namespace grpo::cli
