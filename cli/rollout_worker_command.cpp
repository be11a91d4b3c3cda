// `grpo rollout-worker --connect tcp://HOST:PORT`: serve generation for an
// orchestrator (`grpo train`) over ZeroMQ; see rollout/worker.h. The model's
// device, dtype and decode mode come from the orchestrator (rollout.device,
// rollout.dtype, rollout.decode).
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "core/torch_runtime.h"
#include "rollout/curve_keys.h"
#include "rollout/worker.h"

namespace grpo::cli {

void add_rollout_worker_command(CLI::App& root) {
  CLI::App* cmd = root.add_subcommand("rollout-worker", "Generate completions for a `grpo train` orchestrator (ZeroMQ)");
  struct Args {
    rollout::WorkerOptions worker;
    std::string server_key;
    std::string key_file;
    std::string keygen;
    int threads = 0;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--connect", args->worker.connect, "Orchestrator endpoint: tcp://HOST:PORT or ipc://PATH");
  cmd->add_option("--name", args->worker.name, "Name in logs (default HOST-PID)");
  cmd->add_option("--credits", args->worker.credits, "Group requests held and generated together")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--heartbeat-s", args->worker.heartbeat_interval_s, "Seconds between heartbeats")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--server-key", args->server_key, "CURVE: the orchestrator's public key (40-char Z85) or its key file");
  cmd->add_option("--key", args->key_file, "CURVE: this worker's key file (public= and secret= lines)")->check(CLI::ExistingFile);
  cmd->add_option("--keygen", args->keygen, "Write a new CURVE key pair to this file and exit");
  cmd->add_option("--threads", args->threads, "LibTorch threads (0 = available cores)")->capture_default_str();
  cmd->add_flag("--test-hold-requests", args->worker.hold_requests, "Tests only: accept requests but never answer")->group("");
  cmd->add_option("--test-host", args->worker.host, "Tests only: the machine name told to the orchestrator")->group("");
  cmd->callback([args] {
    if (!args->keygen.empty()) {
      rollout::CurveKeyPair keys = rollout::generate_curve_keypair();
      rollout::write_key_file(args->keygen, keys);
      std::cout << keys.public_key << "\n";
      return;
    }
    if (args->worker.connect.empty()) throw CLI::RequiredError("--connect");
    if (args->server_key.empty() != args->key_file.empty())
      throw CLI::ValidationError("--server-key/--key", "CURVE needs both the orchestrator's public key and this worker's key file");
    if (!args->server_key.empty()) {
      args->worker.server_public_key = rollout::public_key_from(args->server_key);
      args->worker.keys = rollout::read_key_file(args->key_file);
    }
    configure_torch_threads(args->threads);
    rollout::RolloutWorker(args->worker).run();
  });
}

}  // namespace grpo::cli
