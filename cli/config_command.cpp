// `grpo config show|validate|docs`: resolved recipes and the recipe reference.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "train/recipe.h"

namespace grpo::cli {

void add_config_command(CLI::App& root) {
  CLI::App* config = root.add_subcommand("config", "Show, check and document recipes");
  config->require_subcommand(1);

  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
  };
  auto args = std::make_shared<Args>();

  CLI::App* show = config->add_subcommand("show", "Print the resolved recipe (extends followed, overrides applied, defaults filled in)");
  show->add_option("recipe", args->recipe, "Recipe JSON file")->required()->check(CLI::ExistingFile);
  show->add_option("--set", args->overrides, "Override a key: --set learner.lr=1e-6 (repeatable)");
  show->callback([args] { std::cout << recipe_to_json(load_recipe(args->recipe, args->overrides)).dump(2) << "\n"; });

  CLI::App* validate = config->add_subcommand("validate", "Check a recipe; print nothing and exit 0 when it is valid");
  validate->add_option("recipe", args->recipe, "Recipe JSON file")->required()->check(CLI::ExistingFile);
  validate->add_option("--set", args->overrides, "Override a key (repeatable)");
  validate->callback([args] { load_recipe(args->recipe, args->overrides); });

  CLI::App* docs = config->add_subcommand("docs", "Print the recipe reference (docs/recipes.md) as Markdown");
  docs->callback([] { std::cout << recipe_reference_markdown(); });
}

}  // namespace grpo::cli
