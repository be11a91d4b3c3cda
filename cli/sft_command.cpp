// `grpo sft RECIPE [--set …]`: supervised next-token training (train/sft_loop.h).
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "train/sft_loop.h"

namespace grpo::cli {

void add_sft_command(CLI::App& root) {
  CLI::App* sft = root.add_subcommand(
      "sft", "Supervised next-token training: pretrain on text or fine-tune on prompt/completion pairs (recipe section sft)");
  auto options = std::make_shared<train::SftOptions>();
  sft->add_option("recipe", options->recipe_path, "Recipe JSON file with an sft section")->required()->check(CLI::ExistingFile);
  sft->add_option("--set", options->overrides, "Override a recipe key: --set sft.text=corpus.txt (repeatable)");
  sft->callback([options] {
    train::SftSummary s = train::run_sft(*options);
    std::cerr << "grpo: sft " << s.status << " after " << s.steps_done << " steps; loss "
              << (s.last_metrics.count("loss") ? s.last_metrics.at("loss") : 0.0) << "; model: " << s.model_dir << "\n";
  });
}

}  // namespace grpo::cli
