// Linked into every tool (and the benchmarks): OpenMP threads that wait at a barrier sleep
// instead of spinning, unless the user set OMP_WAIT_POLICY (or GOMP_SPINCOUNT) themselves.
// On a machine where another process is busy, spinning threads steal the core the last thread
// of a parallel region needs, and a forward pass took 10-80 times longer (docs/benchmarks.md,
// "A busy machine"). libgomp reads its environment in its own constructor, before main() and
// before the library's constructors, so the variable is set from .preinit_array, which the
// dynamic loader runs before any shared object is initialised.
#include <cstdlib>

namespace {

void prefer_passive_waiting(int, char**, char**) {
  if (std::getenv("GOMP_SPINCOUNT") == nullptr) setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
}

__attribute__((section(".preinit_array"), used)) void (*const kPreferPassiveWaiting)(int, char**, char**) =
    prefer_passive_waiting;

}  // namespace
