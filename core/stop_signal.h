// stop_signal.h: SIGINT / SIGTERM as a request to stop cleanly. A long job
// installs the handler, checks stop_requested() between units of work,
// finishes or abandons the current one, checkpoints and exits 0. A second
// signal while stopping ends the process at once (the default action).
#pragma once

namespace grpo {

// Installs the handlers (idempotent).
void install_stop_signal_handlers();
// True once SIGINT or SIGTERM has arrived.
bool stop_requested();
// The signal that asked to stop (0 when none), for the log.
int stop_signal_number();

}  // namespace grpo
