// Fuzz target: audio files in memory (lib/media/audio.h decode_audio: libsndfile's virtual I/O,
// WAV, FLAC, OGG/Vorbis and every other container libsndfile opens), mixed to mono, with a small
// length limit so that each run stays short.
#include <cmath>

#include "fuzz_common.h"
#include "media/audio.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  fuzz::fuzz_guard([&] {
    AudioLimits limits;
    limits.max_frames = 1 << 16;
    const Audio audio = decode_audio(data, size, "fuzz.wav", limits);
    if (audio.sample_rate <= 0 || audio.samples.size() > static_cast<size_t>(limits.max_frames)) {
      std::fprintf(stderr, "FUZZ FINDING: decode_audio returned %lld Hz, %zu samples\n",
                   static_cast<long long>(audio.sample_rate), audio.samples.size());
      std::abort();
    }
    double sum = 0;
    for (float v : audio.samples) sum += std::isfinite(v) ? v : 0;
    fuzz::keep(sum);
  });
  return 0;
}
