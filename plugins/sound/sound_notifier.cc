// tether-notifier-sound: plays a chime for each notification on the system's audio. Picks
// the sound (the rule's file, the notifier's file, or the bundled one for the kind) and
// its volume, plays it synchronously, and reports a missing audio device once. Decoding
// is clip.h's job, playing audio_output.h's; README.md documents the options.
//
// send() plays synchronously, one sound at a time per instance (the others wait on a
// mutex), and returns once the sound has drained, so the result the host records is what
// really happened. Each sound is cut at max_seconds, which bounds how long a send blocks;
// the bundled chimes are shorter than a second.
#include <dlfcn.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>

#include "audio_output.h"
#include "clip.h"
#include "notifier_sdk.hpp"

namespace fs = std::filesystem;

namespace {

using notifier_sdk::BadOptions;
using tether_sound::Backend;
using tether_sound::PlayOutcome;

// Where the bundled chimes are: <prefix>/lib/tether/plugins/this.so ->
// <prefix>/share/tether/sounds, the same in the build tree and in an install.
std::string bundled_sounds_dir() {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(&bundled_sounds_dir), &info) || !info.dli_fname) return "";
    std::error_code ec;
    fs::path so = fs::weakly_canonical(fs::absolute(info.dli_fname, ec), ec);
    return (so.parent_path() / ".." / ".." / ".." / "share" / "tether" / "sounds").lexically_normal().string();
}

// A volume: a number from 0 to 1, or a percentage ("70%").
double parse_volume(const std::string& key, const std::string& text) {
    std::string number = text;
    double scale = 1.0;
    if (!number.empty() && number.back() == '%') {
        number.pop_back();
        scale = 0.01;
    }
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v * scale < 0 || v * scale > 1)
        throw BadOptions(key + ": expected a number from 0 to 1 or a percentage, got \"" + text + "\"");
    return v * scale;
}

Backend parse_backend(const std::string& text) {
    if (text == "auto") return Backend::automatic;
    if (text == "pulse" || text == "pipewire") return Backend::pulse;
    if (text == "alsa") return Backend::alsa;
    throw BadOptions("backend: expected auto, pulse or alsa, got \"" + text + "\"");
}

std::string expand_home(const std::string& path) {
    if (path.rfind("~/", 0) != 0) return path;
    const char* home = std::getenv("HOME");
    return home ? std::string(home) + path.substr(1) : path;
}

// The bundled file for a notification kind.
std::string file_for_kind(std::string_view kind) {
    if (kind == "permission" || kind == "question" || kind == "done") return std::string(kind) + ".wav";
    return "other.wav";
}

class SoundNotifier {
public:
    SoundNotifier(notifier_sdk::Host host, const notifier_sdk::Options& o) : m_host(host) {
        o.reject_unknown({"backend", "alsa_device", "pulse_sink", "volume", "sounds_dir", "file", "max_seconds"});
        m_output.backend = parse_backend(o.get("backend", "auto"));
        m_output.alsa_device = o.get("alsa_device", "default");
        m_output.pulse_sink = o.get("pulse_sink", "");
        if (m_output.alsa_device.empty()) throw BadOptions("alsa_device must not be empty");
        m_volume = parse_volume("volume", o.get("volume", "1"));
        m_max_seconds = static_cast<double>(o.integer("max_seconds", 5, 1, 60));
        m_file = expand_home(o.get("file", ""));
        m_sounds_dir = expand_home(o.get("sounds_dir", bundled_sounds_dir()));
        std::error_code ec;
        if (m_file.empty() && !fs::is_directory(m_sounds_dir, ec))
            throw BadOptions("no sounds directory at " + m_sounds_dir + " (set sounds_dir, or file)");
        tether_sound::quiet_alsa_errors();
    }
    ~SoundNotifier() { tether_sound::restore_alsa_errors(); }
    SoundNotifier(const SoundNotifier&) = delete;
    SoundNotifier& operator=(const SoundNotifier&) = delete;

    void send(const notifier_sdk::Message& m) {
        auto rule = m.rule_options();
        // Per-rule options replace the notifier's; a typo must not pass in silence.
        rule.reject_unknown({"file", "volume"});
        double volume = rule.has("volume") ? parse_volume("volume", *rule.optional("volume")) : m_volume;
        std::string path = sound_file(m.kind(), rule.get("file", ""));
        tether_sound::Clip clip;
        try {
            clip = tether_sound::load_clip(path, volume, m_max_seconds);
        } catch (const std::exception& e) {
            throw notifier_sdk::Fail(e.what());
        }
        std::lock_guard lock(m_play_mutex);
        PlayOutcome out = tether_sound::play(clip, m_output);
        switch (out.status) {
        case PlayOutcome::Status::played:
            if (m_warned) m_host.info("an audio device is back: played on " + out.backend);
            m_warned = false;
            return;
        case PlayOutcome::Status::no_device:
            // Once, until a device works again: a missing device is a fact about the
            // machine, not about this notification. No retry either: waiting does not
            // make a sound card appear, and a late chime is noise.
            if (!m_warned)
                m_host.event("no_audio_device", "no audio device, notification sounds are silent (tried " + out.detail + ")");
            m_warned = true;
            throw notifier_sdk::Fail("no audio device (tried " + out.detail + ")");
        case PlayOutcome::Status::failed:
            throw notifier_sdk::Fail(out.detail);
        }
    }

private:
    std::string sound_file(std::string_view kind, const std::string& rule_file) const {
        std::string f = expand_home(!rule_file.empty() ? rule_file : !m_file.empty() ? m_file : file_for_kind(kind));
        // A bare or relative name is one of the sounds in sounds_dir ("question.wav").
        if (fs::path(f).is_relative()) return (fs::path(m_sounds_dir) / f).string();
        return f;
    }

    notifier_sdk::Host m_host;
    tether_sound::OutputConfig m_output;
    double m_volume = 1.0;
    double m_max_seconds = 5;
    std::string m_file;
    std::string m_sounds_dir;
    std::mutex m_play_mutex;  // one sound at a time; guards m_warned
    bool m_warned = false;
};

}  // namespace

NOTIFIER_PLUGIN(SoundNotifier, "sound", "plays a chime per notification on PulseAudio/PipeWire or ALSA")
