// How output is stored: zstd frames, through contexts kept between calls (a compression
// context costs more to set up than a 64 KiB chunk costs to compress). The event log
// compresses OutputChunk payloads with it (payload_codec in event_log.h) and keyframes.db
// its screen states; each has exactly one place that decompresses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace tether {

class ZstdCompressor {
public:
    static constexpr int k_level = 1;  // the fastest standard level; see bench/README (storage)

    ZstdCompressor();
    ~ZstdCompressor();
    ZstdCompressor(const ZstdCompressor&) = delete;
    ZstdCompressor& operator=(const ZstdCompressor&) = delete;

    // One frame (with its content size) into *out; false when it would not be smaller
    // than the input, which is then best stored as it is.
    bool compress(std::string_view in, std::string& out);

private:
    ZSTD_CCtx* m_ctx;
};

class ZstdDecompressor {
public:
    ZstdDecompressor();
    ~ZstdDecompressor();
    ZstdDecompressor(const ZstdDecompressor&) = delete;
    ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

    // One frame written by ZstdCompressor, at most max_bytes once decompressed; the error
    // says what is wrong with it (the caller names where it came from).
    Result<std::string> decompress(std::string_view frame, size_t max_bytes);

private:
    ZSTD_DCtx* m_ctx;
};

}  // namespace tether
