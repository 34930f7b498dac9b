// perceiver::version() and the --version text of the tools (include/perceiver/perceiver.h).
#include "perceiver/perceiver.h"

#include <dnnl.hpp>

#include "git_commit.h"  // generated at build time (cmake/git_commit.cmake)
#include "kernels/runtime.h"

namespace perceiver {

namespace {

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

}  // namespace

std::string version() { return PERCEIVER_VERSION; }

std::string git_commit() { return PERCEIVER_GIT_COMMIT; }

std::string build_info() {
  const dnnl_version_t* dnnl = dnnl_version();
  return "perceiver " + version() + " (git " + git_commit() + "), oneDNN " + std::to_string(dnnl->major) + "." +
         std::to_string(dnnl->minor) + "." + std::to_string(dnnl->patch) + ", CPU ISA " +
         isa_name(dnnl::get_effective_cpu_isa()) + ", bf16 " + (kernels::cpu_has_bf16() ? "available" : "not available");
}

}  // namespace perceiver
