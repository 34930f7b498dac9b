#include "cli/interrupt.h"

#include <csignal>

namespace perceiver::cli {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void record_signal(int signal) {
  if (g_signal == 0) g_signal = signal;
}

void install(int signal) {
  struct sigaction current {};
  if (::sigaction(signal, nullptr, &current) != 0) return;
  if (signal == SIGINT && current.sa_handler == SIG_IGN) return;  // keep a job's ignored SIGINT ignored
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a read waiting on a silent pipe or FIFO returns EINTR, and the tool stops
  // (common/input_file.h) instead of waiting on. SA_RESETHAND: a second signal ends the process.
  action.sa_flags = SA_RESETHAND;
  ::sigaction(signal, &action, nullptr);
}

}  // namespace

void install_interrupt_handlers() {
  install(SIGINT);
  install(SIGTERM);
}

bool interrupted() { return g_signal != 0; }

int interrupt_signal() { return g_signal; }

const char* interrupt_signal_name() {
  switch (g_signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

}  // namespace perceiver::cli
