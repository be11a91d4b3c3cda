// commands.h: every subcommand of the `grpo` binary adds itself to the root
// CLI11 app through one function here; main.cpp calls them all. A command's
// callback throws grpo::Error for runtime failures (exit 1); CLI11 reports
// usage errors (exit 2).
#pragma once

namespace CLI {
class App;
}

namespace grpo::cli {

void add_config_command(CLI::App& root);
void add_score_command(CLI::App& root);
void add_version_command(CLI::App& root);
void add_sandbox_command(CLI::App& root);
void add_rollout_worker_command(CLI::App& root);
void add_generate_command(CLI::App& root);
void add_train_command(CLI::App& root);
void add_sft_command(CLI::App& root);
void add_data_command(CLI::App& root);
void add_tokenizer_command(CLI::App& root);
void add_model_command(CLI::App& root);
void add_report_command(CLI::App& root);
void add_eval_command(CLI::App& root);
void add_serve_command(CLI::App& root);

}  // namespace grpo::cli
