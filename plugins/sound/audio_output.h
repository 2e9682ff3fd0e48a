// Plays a Clip on the system's audio: PulseAudio (which PipeWire also serves) through
// libpulse-simple, or ALSA through libasound. The only file that calls either library.
// Which sound to play, volume and warnings belong to sound_notifier.cc.
#pragma once

#include <string>

#include "clip.h"

namespace tether_sound {

enum class Backend { automatic, pulse, alsa };

struct OutputConfig {
    Backend backend = Backend::automatic;  // automatic: PulseAudio, else ALSA
    std::string alsa_device = "default";   // an ALSA PCM name ("default", "plughw:1", ...)
    std::string pulse_sink;                // "" for the server's default sink
};

struct PlayOutcome {
    enum class Status {
        played,     // every sample went to a device and was drained
        no_device,  // no backend could be opened; detail says what was tried and why
        failed,     // a device opened but playing failed; detail says why
    };
    Status status = Status::played;
    std::string detail;   // e.g. "PulseAudio: Connection refused; ALSA \"default\": ..."
    std::string backend;  // which one played: "PulseAudio" or "ALSA \"default\""
};

// Blocks until the clip has played (its length, plus the device's latency). Safe to call
// from several threads, but concurrent calls each open their own stream.
PlayOutcome play(const Clip& clip, const OutputConfig& config);

// libasound writes its own errors to stderr; between these calls it is silenced, since a
// missing device is reported once, by the notifier. Counted: one per plugin instance.
void quiet_alsa_errors();
void restore_alsa_errors();

}  // namespace tether_sound
