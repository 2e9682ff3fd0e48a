// zstd contexts.
#include "log/zstd_codec.h"

#include <zstd.h>

#include "base/bug.h"

namespace tether {

ZstdCompressor::ZstdCompressor() : m_ctx(ZSTD_createCCtx()) { TETHER_ASSERT(m_ctx != nullptr); }
ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(m_ctx); }

bool ZstdCompressor::compress(std::string_view in, std::string& out) {
    out.resize(ZSTD_compressBound(in.size()));
    size_t n = ZSTD_compressCCtx(m_ctx, out.data(), out.size(), in.data(), in.size(), k_level);
    if (ZSTD_isError(n) || n >= in.size()) return false;
    out.resize(n);
    return true;
}

ZstdDecompressor::ZstdDecompressor() : m_ctx(ZSTD_createDCtx()) { TETHER_ASSERT(m_ctx != nullptr); }
ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(m_ctx); }

Result<std::string> ZstdDecompressor::decompress(std::string_view frame, size_t max_bytes) {
    unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (size == ZSTD_CONTENTSIZE_ERROR) return Error{"not a zstd frame"};
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_bytes)
        return Error{"zstd frame of " + std::string(size == ZSTD_CONTENTSIZE_UNKNOWN ? "unknown" : std::to_string(size)) +
                     " bytes (at most " + std::to_string(max_bytes) + ")"};
    std::string out(static_cast<size_t>(size), '\0');
    size_t n = ZSTD_decompressDCtx(m_ctx, out.data(), out.size(), frame.data(), frame.size());
    if (ZSTD_isError(n)) return Error{std::string("zstd: ") + ZSTD_getErrorName(n)};
    if (n != out.size()) return Error{"zstd frame shorter than it says"};
    return out;
}

}  // namespace tether
