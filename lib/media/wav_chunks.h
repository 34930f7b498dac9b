// A check of a RIFF/WAVE file's LIST chunks before libsndfile opens it. libsndfile 1.2.0 (Debian
// 12, and still 1.2.2 upstream: libsndfile issue #1118) never returns from sf_open on a WAV whose
// LIST chunk holds a sub-chunk whose size runs past the chunk; found by fuzzing decode_audio. Such
// a file is refused here instead, with the offset of the bad sub-chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace perceiver {

// Reads up to n bytes at offset into out and returns how many it read.
using ByteReader = std::function<size_t(uint64_t offset, uint8_t* out, size_t n)>;

// Does nothing for anything that is not RIFF/RIFX/RF64 WAVE. Throws Error(Input), the message
// starting with `name`, for a LIST sub-chunk that runs past its LIST chunk.
void check_wav_list_chunks(const ByteReader& read, uint64_t size, const std::string& name);

}  // namespace perceiver
