// SIGINT and SIGTERM during a batch: the handler only records the signal (async-signal-safe);
// batch loops call interrupted() between items (and long items between windows), stop starting
// new work, finish or abandon the current item without leaving a partial file (outputs are
// written to a temporary name and renamed, so an abandoned item leaves nothing), print the
// summary and exit with kExitInterrupted (11).
//
// A signal that arrives while the tool waits for input (a FIFO's open, a read from a pipe or
// terminal) ends that wait: the read fails with Error(Interrupted), exit code 11.
//
// The handlers are one-shot: a second SIGINT/SIGTERM ends the process at once with the default
// action (like kill -9: final files are never partial, but a temporary file being written may
// remain; --skip-existing runs remove those of their own outputs). A SIGINT that was ignored when
// the tool started (a background job of a non-interactive shell) stays ignored.
#pragma once

namespace perceiver::cli {

void install_interrupt_handlers();

// True once SIGINT or SIGTERM arrived.
bool interrupted();

// The signal that arrived (SIGINT or SIGTERM), 0 if none.
int interrupt_signal();

// "SIGINT", "SIGTERM" (for messages).
const char* interrupt_signal_name();

}  // namespace perceiver::cli
