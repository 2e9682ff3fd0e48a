// tether-make-chimes DIR: synthesises the sound notifier's bundled chimes into DIR as
// 16-bit mono WAV files (permission.wav, question.wav, done.wav, other.wav). Run at build
// time, so no audio file is checked in. Each chime is a few bell-like notes (a sine with
// two overtones, a short attack and an exponential decay) and the kinds differ in notes,
// order and rhythm: two urgent rising pairs for a permission, a rising pair for a
// question, a falling triad for done, one soft note for anything else.
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr int k_rate = 48000;
constexpr double k_pi = 3.14159265358979323846;

struct Note {
    double start_s;
    double hz;
    double decay_s;  // time for the note to fall to 1/e
};

struct Chime {
    const char* file;
    double length_s;
    std::vector<Note> notes;
};

std::vector<float> render(const Chime& c) {
    std::vector<double> mix(static_cast<size_t>(c.length_s * k_rate), 0.0);
    for (const Note& n : c.notes) {
        size_t first = static_cast<size_t>(n.start_s * k_rate);
        for (size_t i = first; i < mix.size(); ++i) {
            double t = static_cast<double>(i - first) / k_rate;
            double attack = std::min(1.0, t / 0.005);
            double env = attack * std::exp(-t / n.decay_s);
            double w = 2 * k_pi * n.hz * t;
            mix[i] += env * (std::sin(w) + 0.35 * std::sin(2 * w) + 0.12 * std::sin(3 * w));
        }
    }
    // Fade the last 20 ms out, then normalise to a peak of 0.7 (headroom for mixing).
    size_t fade = static_cast<size_t>(0.02 * k_rate);
    for (size_t i = 0; i < fade && i < mix.size(); ++i) mix[mix.size() - 1 - i] *= static_cast<double>(i) / fade;
    double peak = 0;
    for (double v : mix) peak = std::max(peak, std::fabs(v));
    std::vector<float> out(mix.size());
    for (size_t i = 0; i < mix.size(); ++i) out[i] = static_cast<float>(peak > 0 ? 0.7 * mix[i] / peak : 0);
    return out;
}

bool write_wav(const std::string& path, const std::vector<float>& samples) {
    SF_INFO info{};
    info.samplerate = k_rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f) {
        std::fprintf(stderr, "tether-make-chimes: cannot write %s: %s\n", path.c_str(), sf_strerror(nullptr));
        return false;
    }
    sf_count_t n = sf_writef_float(f, samples.data(), static_cast<sf_count_t>(samples.size()));
    bool ok = n == static_cast<sf_count_t>(samples.size());
    if (!ok) std::fprintf(stderr, "tether-make-chimes: writing %s failed: %s\n", path.c_str(), sf_strerror(f));
    sf_close(f);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: tether-make-chimes DIR\n");
        return 2;
    }
    const double e5 = 659.26, a5 = 880.0, c5 = 523.25, g5 = 783.99, e6 = 1318.51, c6 = 1046.5, a4 = 440.0;
    const Chime chimes[] = {
        {"permission.wav", 0.9, {{0.0, e5, 0.09}, {0.12, a5, 0.09}, {0.36, e5, 0.09}, {0.48, a5, 0.16}}},
        {"question.wav", 0.9, {{0.0, c5, 0.18}, {0.22, g5, 0.28}}},
        {"done.wav", 1.0, {{0.0, e6, 0.2}, {0.14, g5, 0.2}, {0.28, c6 / 2, 0.35}}},
        {"other.wav", 0.6, {{0.0, a4, 0.2}}},
    };
    bool ok = true;
    for (const Chime& c : chimes) ok = write_wav(std::string(argv[1]) + "/" + c.file, render(c)) && ok;
    return ok ? 0 : 1;
}
