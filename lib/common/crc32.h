// CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF), the
// checksum of ZIP entries, gzip members and PNG chunks (PNG spec §5.5).
#pragma once

#include <cstddef>
#include <cstdint>

namespace perceiver {

// Continues from `crc` (0 to start): crc32(b, n2, crc32(a, n1)) == crc32(a‖b).
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace perceiver
