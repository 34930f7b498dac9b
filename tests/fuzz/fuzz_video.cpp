// Fuzz target: video container bytes in memory (lib/media/video_reader.h and video_audio.h over
// our own AVIOContext: every demuxer FFmpeg's libavformat probes, its decoders, the RGB
// conversion and autorotation, the audio mix), with small limits so each run stays short. The
// container bytes are untrusted like every other input file; FFmpeg's own code is not
// instrumented here (Debian's libraries), ours around it is.
#include "fuzz_common.h"
#include "media/video_audio.h"
#include "media/video_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  fuzz::fuzz_guard([&] {
    VideoLimits limits;
    limits.max_pixels = 1 << 16;
    limits.max_frames = 16;
    VideoReader reader(data, size, "fuzz.video", limits);
    const VideoInfo& info = reader.info();
    if (info.width <= 0 || info.height <= 0 || info.width * info.height > limits.max_pixels) {
      std::fprintf(stderr, "FUZZ FINDING: VideoReader opened a %lld×%lld stream\n", static_cast<long long>(info.width),
                   static_cast<long long>(info.height));
      std::abort();
    }
    VideoFrame frame;
    int64_t frames = 0, sum = 0;
    while (reader.next(frame)) {
      const Image& image = frame.image;
      if (image.width <= 0 || image.height <= 0 || image.width * image.height > limits.max_pixels ||
          image.rgb.size() != static_cast<size_t>(image.width * image.height * 3) || frame.number <= frames ||
          ++frames > limits.max_frames) {
        std::fprintf(stderr, "FUZZ FINDING: VideoReader returned an inconsistent frame %lld\n",
                     static_cast<long long>(frame.number));
        std::abort();
      }
      for (uint8_t v : image.rgb) sum += v;
    }
    fuzz::keep(sum);
  });
  fuzz::fuzz_guard([&] {
    AudioLimits limits;
    limits.max_frames = 1 << 16;
    const Audio audio = decode_video_audio(data, size, "fuzz.video", limits);
    if (audio.sample_rate <= 0 || audio.samples.empty() || audio.samples.size() > static_cast<size_t>(limits.max_frames)) {
      std::fprintf(stderr, "FUZZ FINDING: decode_video_audio returned %lld Hz, %zu samples\n",
                   static_cast<long long>(audio.sample_rate), audio.samples.size());
      std::abort();
    }
    double sum = 0;
    for (float v : audio.samples) sum += v;
    fuzz::keep(sum);
  });
  return 0;
}
