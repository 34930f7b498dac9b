#!/usr/bin/env bash
# Regenerates the seed corpus of the video fuzz target (tests/fuzz/corpus/video/): three tiny
# clips (< 4 KB each) made with the ffmpeg CLI, bit-exact flags so a rerun gives the same bytes
# with the same FFmpeg (Debian 12's 5.1). Each exercises another demuxer and decoder pair:
#   h264_aac.mp4   MP4 (+faststart) with H.264 video and AAC audio
#   ffv1.mkv       Matroska with FFV1 at 12×10
#   mjpeg_pcm.mkv  Matroska with full-range MJPEG video and 8-bit PCM audio
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fuzz/corpus/video
mkdir -p "$out"
ff=(ffmpeg -hide_banner -loglevel error -nostdin -y)
exact=(-fflags +bitexact -flags +bitexact -map_metadata -1)
"${ff[@]}" -f lavfi -i testsrc2=size=16x16:rate=10 -f lavfi -i sine=f=440:sample_rate=8000 -frames:v 3 -t 0.3 \
  -c:v libx264 -x264-params threads=1 -pix_fmt yuv420p -c:a aac -b:a 16k -movflags +faststart "${exact[@]}" "$out/h264_aac.mp4"
"${ff[@]}" -f lavfi -i testsrc2=size=12x10:rate=10 -frames:v 2 -c:v ffv1 -pix_fmt yuv420p "${exact[@]}" "$out/ffv1.mkv"
"${ff[@]}" -f lavfi -i testsrc2=size=16x8:rate=10 -f lavfi -i sine=sample_rate=8000 -frames:v 2 -t 0.2 \
  -c:v mjpeg -q:v 20 -c:a pcm_u8 "${exact[@]}" "$out/mjpeg_pcm.mkv"
ls -l "$out"
