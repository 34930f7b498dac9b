// Filling masked bytes of a document of any length with the masked language model.
//
// Window policy (documents longer than the model window): the window holds P =
// max_position_embeddings tokens, [CLS] and [SEP] included, so C = P − 2 document bytes.
// Windows start every max(1, C/2) bytes (the last one aligned to the document's end), each
// framed as [CLS] … [SEP] like a short document. Each masked byte is predicted from the window
// whose centre is nearest to it (the earlier on a tie), i.e. with the most context on both
// sides; only windows that own a masked byte are run, and only masked positions are decoded.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "models/masked_lm.h"

namespace perceiver {

struct TokenScore {
  int64_t id = 0;  // vocabulary id
  float p = 0;     // softmax over all vocabulary logits at the position
};

struct MaskPrediction {
  int64_t position = 0;  // in the document's own framed sequence: [CLS] = 0, byte i = i + 1
  std::vector<TokenScore> candidates;  // top-k, p descending
};

struct FilledDocument {
  std::vector<MaskPrediction> masks;
  std::string text;  // the document with every mask replaced by its best prediction (raw bytes)
};

// How masked bytes are decided:
//   Parallel   every masked byte of a window from one forward pass, each independently: HF's
//              fill-mask (and what the golden tests compare with);
//   Iterative  per pass, in every run of adjacent masked bytes, only the first (leftmost) byte
//              still masked is decided (its candidates are that pass's); it is written into the
//              document and the rest of the run is predicted again with it as context. A lone
//              masked byte is decided in the first pass exactly as in Parallel; a run of N bytes
//              takes N passes (docs/mlm.md has both measured: not better on held-out prose).
enum class Decoding { Parallel, Iterative };

// ids: the document's ids without framing (from encode_masked_document). top_k 0 = all.
FilledDocument fill_masks(const MaskedLanguageModel& model, const std::vector<int64_t>& ids, int64_t top_k,
                          Decoding decoding = Decoding::Parallel);

// The same, streamed: `on_window` receives the predictions of each window that owns masks, as
// soon as that window ran (masks in position order over all calls; the vector is reused), and
// the filled text is returned. Memory beyond the document's own bytes is one window's, however
// many masks there are; throwing from `on_window` (e.g. on SIGTERM) stops between windows.
using WindowPredictions = std::function<void(const std::vector<MaskPrediction>&)>;
std::string fill_masks(const MaskedLanguageModel& model, const std::vector<int64_t>& ids, int64_t top_k,
                       const WindowPredictions& on_window, Decoding decoding = Decoding::Parallel);

// The window starts for a document of `length` bytes and a content capacity of `capacity`.
std::vector<int64_t> window_starts(int64_t length, int64_t capacity);

}  // namespace perceiver
