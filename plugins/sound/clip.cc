// Decoding through libsndfile, as floats, so that volume scales before the one rounding
// to 16 bits (volume 0.5 halves the peak exactly, give or take one step).
#include "clip.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace tether_sound {

namespace {

struct SndfileCloser {
    void operator()(SNDFILE* f) const { sf_close(f); }
};

}  // namespace

Clip load_clip(const std::string& path, double volume, double max_seconds) {
    SF_INFO info{};
    std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open(path.c_str(), SFM_READ, &info));
    if (!file) throw std::runtime_error("cannot read sound file " + path + ": " + sf_strerror(nullptr));
    if (info.channels < 1 || info.samplerate < 1)
        throw std::runtime_error("sound file " + path + " has no audio (" + std::to_string(info.channels) +
                                 " channels at " + std::to_string(info.samplerate) + " Hz)");
    sf_count_t limit = static_cast<sf_count_t>(max_seconds * info.samplerate);
    sf_count_t frames = info.frames > 0 ? std::min(info.frames, limit) : limit;

    std::vector<float> decoded(static_cast<size_t>(frames) * static_cast<size_t>(info.channels));
    sf_count_t got = sf_readf_float(file.get(), decoded.data(), frames);
    if (got <= 0)
        throw std::runtime_error("cannot decode sound file " + path + ": " +
                                 (got < 0 || sf_error(file.get()) ? sf_strerror(file.get()) : "no samples"));

    Clip clip;
    clip.rate = info.samplerate;
    clip.channels = info.channels;
    clip.samples.resize(static_cast<size_t>(got) * static_cast<size_t>(info.channels));
    for (size_t i = 0; i < clip.samples.size(); ++i) {
        double v = std::clamp(static_cast<double>(decoded[i]) * volume, -1.0, 1.0);
        clip.samples[i] = static_cast<int16_t>(std::lround(v * 32767.0));
    }
    return clip;
}

}  // namespace tether_sound
