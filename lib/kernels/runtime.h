// The oneDNN CPU engine and stream shared by every primitive, and the thread count.
// Threads must be set before the first primitive is created (OpenMP runtime).
#pragma once

#include <dnnl.hpp>

namespace perceiver::kernels {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// 0 keeps the OpenMP default (all cores). Call before building a model.
void set_num_threads(int threads);
int num_threads();

}  // namespace perceiver::kernels
