// libpulse-simple and libasound, each used in the plainest blocking way: open a stream
// for the clip's format, write, drain, close. Opening a stream per clip costs a few
// milliseconds and means a device that appears (or a server that starts) later is used.
#include "audio_output.h"

#include <alsa/asoundlib.h>
#include <pulse/error.h>
#include <pulse/simple.h>

#include <cstdarg>
#include <mutex>

namespace tether_sound {

namespace {

constexpr unsigned k_alsa_latency_us = 100000;

PlayOutcome play_pulse(const Clip& clip, const OutputConfig& config) {
    pa_sample_spec spec{};
    spec.format = PA_SAMPLE_S16NE;
    spec.rate = static_cast<uint32_t>(clip.rate);
    spec.channels = static_cast<uint8_t>(clip.channels);
    if (!pa_sample_spec_valid(&spec))
        return {PlayOutcome::Status::failed, "PulseAudio: cannot play " + std::to_string(clip.channels) + " channels at " +
                                                 std::to_string(clip.rate) + " Hz", "PulseAudio"};
    int error = 0;
    // The server comes from $PULSE_SERVER or the usual places (PipeWire's pulse socket too).
    pa_simple* s = pa_simple_new(nullptr, "tether", PA_STREAM_PLAYBACK,
                                 config.pulse_sink.empty() ? nullptr : config.pulse_sink.c_str(), "notification sound",
                                 &spec, nullptr, nullptr, &error);
    if (!s) {
        std::string where = config.pulse_sink.empty() ? "PulseAudio" : "PulseAudio sink \"" + config.pulse_sink + "\"";
        return {PlayOutcome::Status::no_device, where + ": " + pa_strerror(error), "PulseAudio"};
    }
    PlayOutcome out{PlayOutcome::Status::played, "", "PulseAudio"};
    if (pa_simple_write(s, clip.samples.data(), clip.samples.size() * sizeof(int16_t), &error) < 0 ||
        pa_simple_drain(s, &error) < 0)
        out = {PlayOutcome::Status::failed, std::string("PulseAudio: playing failed: ") + pa_strerror(error), "PulseAudio"};
    pa_simple_free(s);
    return out;
}

PlayOutcome play_alsa(const Clip& clip, const OutputConfig& config) {
    std::string where = "ALSA \"" + config.alsa_device + "\"";
    snd_pcm_t* pcm = nullptr;
    int rc = snd_pcm_open(&pcm, config.alsa_device.c_str(), SND_PCM_STREAM_PLAYBACK, 0);
    if (rc < 0) return {PlayOutcome::Status::no_device, where + ": " + snd_strerror(rc), where};
    auto fail = [&](const std::string& what, int code) {
        snd_pcm_close(pcm);
        return PlayOutcome{PlayOutcome::Status::failed, where + ": " + what + ": " + snd_strerror(code), where};
    };
    // soft_resample=1: a plain hw device gets ALSA's plug converter when it needs one.
    rc = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16, SND_PCM_ACCESS_RW_INTERLEAVED, static_cast<unsigned>(clip.channels),
                            static_cast<unsigned>(clip.rate), 1, k_alsa_latency_us);
    if (rc < 0) return fail("cannot play " + std::to_string(clip.channels) + " channels at " + std::to_string(clip.rate) + " Hz", rc);
    const int16_t* data = clip.samples.data();
    snd_pcm_uframes_t left = clip.frames();
    while (left > 0) {
        snd_pcm_sframes_t n = snd_pcm_writei(pcm, data, left);
        if (n < 0) {
            // An underrun or a suspend is recoverable once; anything else ends the clip.
            rc = snd_pcm_recover(pcm, static_cast<int>(n), 1);
            if (rc < 0) return fail("playing failed", rc);
            continue;
        }
        data += static_cast<size_t>(n) * static_cast<size_t>(clip.channels);
        left -= static_cast<snd_pcm_uframes_t>(n);
    }
    rc = snd_pcm_drain(pcm);
    if (rc < 0) return fail("draining failed", rc);
    snd_pcm_close(pcm);
    return {PlayOutcome::Status::played, "", where};
}

void silent_alsa_error(const char*, int, const char*, int, const char*, ...) {}

std::mutex g_quiet_mutex;
int g_quiet_count = 0;

}  // namespace

PlayOutcome play(const Clip& clip, const OutputConfig& config) {
    if (config.backend == Backend::pulse) return play_pulse(clip, config);
    if (config.backend == Backend::alsa) return play_alsa(clip, config);
    PlayOutcome pulse = play_pulse(clip, config);
    if (pulse.status != PlayOutcome::Status::no_device) return pulse;
    PlayOutcome alsa = play_alsa(clip, config);
    if (alsa.status == PlayOutcome::Status::no_device) alsa.detail = pulse.detail + "; " + alsa.detail;
    return alsa;
}

void quiet_alsa_errors() {
    std::lock_guard lock(g_quiet_mutex);
    if (g_quiet_count++ == 0) snd_lib_error_set_handler(&silent_alsa_error);
}

void restore_alsa_errors() {
    std::lock_guard lock(g_quiet_mutex);
    // Before this module can be unloaded: libasound must not keep a pointer into it.
    if (--g_quiet_count == 0) snd_lib_error_set_handler(nullptr);
}

}  // namespace tether_sound
