// A decoded sound: the one place that reads sound files (libsndfile: WAV, FLAC, Ogg
// Vorbis incl. the freedesktop theme's .oga, ...). Playing belongs to audio_output.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tether_sound {

// Interleaved 16-bit samples, ready for any backend. Invariant: samples.size() is a
// multiple of channels.
struct Clip {
    int rate = 0;
    int channels = 0;
    std::vector<int16_t> samples;

    size_t frames() const { return channels ? samples.size() / static_cast<size_t>(channels) : 0; }
};

// Decodes path, scales every sample by volume (0..1), keeps at most max_seconds of it.
// Throws std::runtime_error naming the file when it is missing or cannot be decoded.
Clip load_clip(const std::string& path, double volume, double max_seconds);

}  // namespace tether_sound
