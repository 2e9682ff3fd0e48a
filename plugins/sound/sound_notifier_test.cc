// Unit tests of the sound notifier through its C ABI: the built module is loaded with
// dlopen like the daemon does, and plays into ALSA's file plugin (a temporary HOME whose
// .asoundrc makes the default PCM write raw samples to a file), so every test checks the
// samples that really reached the audio device. PULSE_SERVER points at a socket that does
// not exist, so a PulseAudio or PipeWire on the machine is never used (or heard).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <alsa/asoundlib.h>
#include <dlfcn.h>
#include <sndfile.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "notifier_abi.h"

namespace fs = std::filesystem;

namespace {

const fs::path k_plugin = SOUND_PLUGIN_PATH;
const fs::path k_bundled = k_plugin.parent_path() / ".." / ".." / ".." / "share" / "tether" / "sounds";

using Opts = std::vector<std::pair<std::string, std::string>>;

struct Recorder {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> events;
    std::vector<std::string> logs;
};

void record_log(void* ctx, int, const char* text) {
    auto* r = static_cast<Recorder*>(ctx);
    std::lock_guard lock(r->mutex);
    r->logs.push_back(text);
}

void record_event(void* ctx, const char* code, const char* text) {
    auto* r = static_cast<Recorder*>(ctx);
    std::lock_guard lock(r->mutex);
    r->events.emplace_back(code, text);
}

// A temporary HOME with an ALSA configuration; ALSA is told to forget what it read.
class AudioSandbox {
public:
    AudioSandbox() {
        char tmpl[] = "/tmp/tether-sound-test-XXXXXX";
        m_dir = mkdtemp(tmpl);
        setenv("HOME", m_dir.c_str(), 1);
        setenv("PULSE_SERVER", ("unix:" + (m_dir / "no-pulse-here").string()).c_str(), 1);
        use_file_sink();
    }
    ~AudioSandbox() { fs::remove_all(m_dir); }

    void use_file_sink() {
        write_asoundrc("pcm.!default { type file; slave.pcm \"null\"; file \"" + out().string() + "\"; format \"raw\" }\n");
    }
    void use_missing_card() { write_asoundrc("pcm.!default { type hw; card 29 }\n"); }

    fs::path dir() const { return m_dir; }
    fs::path out() const { return m_dir / "out.raw"; }

    // What the last sound wrote to the device (the file plugin truncates at each open).
    std::vector<int16_t> played() const {
        std::ifstream f(out(), std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::vector<int16_t> s(bytes.size() / 2);
        std::memcpy(s.data(), bytes.data(), s.size() * 2);
        return s;
    }
    void forget_output() const { fs::remove(out()); }

private:
    void write_asoundrc(const std::string& text) {
        std::ofstream(m_dir / ".asoundrc") << text;
        snd_config_update_free_global();
    }
    fs::path m_dir;
};

// The plugin loaded like the daemon loads it, and one instance of it.
class Plugin {
public:
    explicit Plugin(Opts options = {}, const fs::path& path = k_plugin)
        : m_options(std::move(options)) {
        m_lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(m_lib, dlerror());
        auto entry = reinterpret_cast<notifier_plugin_entry_fn>(dlsym(m_lib, "notifier_plugin_entry"));
        REQUIRE(static_cast<bool>(entry));
        m_plugin = entry();
        REQUIRE(std::string(m_plugin->name) == "sound");
        m_host = {NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_host), &m_recorder, &record_log, &record_event, nullptr, nullptr};
        m_self = create(m_error);
    }
    ~Plugin() {
        if (m_self) m_plugin->destroy(m_self);
        dlclose(m_lib);
    }

    void* create(std::string& error) {
        std::vector<notifier_kv> kv;
        for (auto& [k, v] : m_options) kv.push_back({k.c_str(), v.c_str()});
        char err[NOTIFIER_ERROR_MAX] = "";
        void* self = m_plugin->create(&m_host, kv.data(), kv.size(), err, sizeof err);
        error = err;
        return self;
    }

    // send() for a notification of this kind; returns the result code and the error text.
    std::pair<int, std::string> send(const std::string& kind, std::vector<std::pair<std::string, std::string>> rule = {}) {
        REQUIRE_MESSAGE(m_self, m_error);
        std::vector<notifier_kv> kv;
        for (auto& [k, v] : rule) kv.push_back({k.c_str(), v.c_str()});
        notifier_message m{};
        m.abi_major = NOTIFIER_ABI_MAJOR;
        m.abi_minor = NOTIFIER_ABI_MINOR;
        m.struct_size = sizeof m;
        m.idempotency_key = m.rule = m.session_id = m.session_name = m.agent = m.state_from = m.state_to = "";
        m.title = m.body = m.tool = m.tool_input_json = m.cwd = m.message = m.json_payload = "";
        m.kind = kind.c_str();
        m.attempt = 1;
        m.rule_options = kv.data();
        m.rule_options_len = kv.size();
        char err[NOTIFIER_ERROR_MAX] = "";
        int rc = m_plugin->send(m_self, &m, err, sizeof err);
        return {rc, err};
    }

    bool created() const { return m_self != nullptr; }
    const std::string& create_error() const { return m_error; }
    Recorder& recorder() { return m_recorder; }

private:
    Opts m_options;
    void* m_lib = nullptr;
    const notifier_plugin* m_plugin = nullptr;
    Recorder m_recorder;
    notifier_host m_host{};
    std::string m_error;
    void* m_self = nullptr;
};

// A file decoded as 16-bit samples, as the plugin should have played it at this volume.
std::vector<int16_t> expected(const fs::path& path, double volume = 1.0) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    REQUIRE_MESSAGE(f, path.string());
    std::vector<float> v(static_cast<size_t>(info.frames * info.channels));
    sf_readf_float(f, v.data(), info.frames);
    sf_close(f);
    std::vector<int16_t> s(v.size());
    for (size_t i = 0; i < v.size(); ++i) s[i] = static_cast<int16_t>(std::lround(std::clamp(v[i] * volume, -1.0, 1.0) * 32767.0));
    return s;
}

int peak(const std::vector<int16_t>& s) {
    int p = 0;
    for (int16_t v : s) p = std::max(p, std::abs(static_cast<int>(v)));
    return p;
}

bool starts_with(const std::vector<int16_t>& played, const std::vector<int16_t>& want) {
    return played.size() >= want.size() && std::equal(want.begin(), want.end(), played.begin());
}

void write_tone(const fs::path& path, double seconds, double amplitude, int rate = 44100, int channels = 2) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    REQUIRE(f);
    std::vector<float> s(static_cast<size_t>(seconds * rate) * static_cast<size_t>(channels));
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<float>(amplitude * std::sin(2 * 3.14159265358979 * 1000.0 * static_cast<double>(i / channels) / rate));
    sf_writef_float(f, s.data(), static_cast<sf_count_t>(s.size() / static_cast<size_t>(channels)));
    sf_close(f);
}

}  // namespace

TEST_CASE("a permission chime really reaches the audio device") {
    AudioSandbox box;
    Plugin p;
    auto [rc, err] = p.send("permission");
    CHECK_MESSAGE(rc == NOTIFIER_OK, err);
    auto played = box.played();
    auto want = expected(k_bundled / "permission.wav");
    CHECK(peak(played) > 10000);
    CHECK(starts_with(played, want));
    CHECK(p.recorder().events.empty());
}

TEST_CASE("permission, question, done and other kinds sound different") {
    AudioSandbox box;
    Plugin p;
    std::vector<std::vector<int16_t>> outputs;
    for (const char* kind : {"permission", "question", "done", "exited"}) {
        auto [rc, err] = p.send(kind);
        REQUIRE_MESSAGE(rc == NOTIFIER_OK, kind << ": " << err);
        outputs.push_back(box.played());
        CHECK_MESSAGE(peak(outputs.back()) > 10000, kind);
    }
    for (size_t i = 0; i < outputs.size(); ++i)
        for (size_t j = i + 1; j < outputs.size(); ++j) CHECK_MESSAGE(outputs[i] != outputs[j], i << " vs " << j);
    CHECK(starts_with(outputs[3], expected(k_bundled / "other.wav")));
}

TEST_CASE("volume scales the samples: 0.5 halves the peak") {
    AudioSandbox box;
    Plugin p;
    REQUIRE(p.send("done").first == NOTIFIER_OK);
    int full = peak(box.played());
    auto [rc, err] = p.send("done", {{"volume", "0.5"}});
    REQUIRE_MESSAGE(rc == NOTIFIER_OK, err);
    int half = peak(box.played());
    CHECK(full > 10000);
    CHECK(std::abs(2 * half - full) <= 2);
    CHECK(starts_with(box.played(), expected(k_bundled / "done.wav", 0.5)));

    SUBCASE("the notifier's volume is the default and a rule's replaces it") {
        Plugin quiet(Opts{{"volume", "25%"}});
        REQUIRE(quiet.send("done").first == NOTIFIER_OK);
        CHECK(std::abs(4 * peak(box.played()) - full) <= 4);
        REQUIRE(quiet.send("done", {{"volume", "1"}}).first == NOTIFIER_OK);
        CHECK(peak(box.played()) == full);
        REQUIRE(quiet.send("done", {{"volume", "0"}}).first == NOTIFIER_OK);
        CHECK(peak(box.played()) == 0);
    }
}

TEST_CASE("a rule's file replaces the bundled sound, in any format libsndfile reads") {
    AudioSandbox box;
    fs::path tone = box.dir() / "tone.wav";
    write_tone(tone, 0.3, 0.5);
    Plugin p;
    auto [rc, err] = p.send("permission", {{"file", tone.string()}});
    REQUIRE_MESSAGE(rc == NOTIFIER_OK, err);
    CHECK(starts_with(box.played(), expected(tone)));
    CHECK(std::abs(peak(box.played()) - 16384) <= 2);

    SUBCASE("a relative name is one of the sounds in sounds_dir") {
        REQUIRE(p.send("permission", {{"file", "question.wav"}}).first == NOTIFIER_OK);
        CHECK(starts_with(box.played(), expected(k_bundled / "question.wav")));
    }
    SUBCASE("the notifier's file serves every kind, a rule's file still wins") {
        Plugin one(Opts{{"file", tone.string()}});
        REQUIRE(one.send("done").first == NOTIFIER_OK);
        CHECK(starts_with(box.played(), expected(tone)));
        REQUIRE(one.send("done", {{"file", (k_bundled / "done.wav").string()}}).first == NOTIFIER_OK);
        CHECK(starts_with(box.played(), expected(k_bundled / "done.wav")));
    }
    SUBCASE("FLAC and Ogg Vorbis decode too") {
        for (int format : {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, SF_FORMAT_OGG | SF_FORMAT_VORBIS}) {
            fs::path f = box.dir() / (format & SF_FORMAT_FLAC ? "tone.flac" : "tone.oga");
            SF_INFO info{};
            info.samplerate = 48000;
            info.channels = 1;
            info.format = format;
            SNDFILE* out = sf_open(f.c_str(), SFM_WRITE, &info);
            REQUIRE(out);
            std::vector<float> s(24000);
            for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>(0.5 * std::sin(i * 0.05));
            sf_writef_float(out, s.data(), static_cast<sf_count_t>(s.size()));
            sf_close(out);
            box.forget_output();
            auto [frc, ferr] = p.send("done", {{"file", f.string()}});
            CHECK_MESSAGE(frc == NOTIFIER_OK, ferr);
            CHECK_MESSAGE(peak(box.played()) > 8000, f.string());
        }
    }
}

TEST_CASE("max_seconds cuts a long sound") {
    AudioSandbox box;
    fs::path longer = box.dir() / "long.wav";
    write_tone(longer, 4.0, 0.5, 48000, 1);
    Plugin p(Opts{{"max_seconds", "1"}});
    REQUIRE(p.send("done", {{"file", longer.string()}}).first == NOTIFIER_OK);
    auto played = box.played();
    CHECK(played.size() >= 48000);
    CHECK(played.size() < 2 * 48000);  // one second, plus at most the device's last period
}

TEST_CASE("a missing or undecodable sound file fails, naming the file") {
    AudioSandbox box;
    Plugin p;
    auto [rc, err] = p.send("done", {{"file", "/nonexistent/chime.wav"}});
    CHECK(rc == NOTIFIER_FAIL);
    CHECK(err.find("/nonexistent/chime.wav") != std::string::npos);

    fs::path junk = box.dir() / "junk.wav";
    std::ofstream(junk) << "this is not a sound";
    std::tie(rc, err) = p.send("done", {{"file", junk.string()}});
    CHECK(rc == NOTIFIER_FAIL);
    CHECK(err.find(junk.string()) != std::string::npos);
    CHECK(p.recorder().events.empty());
}

TEST_CASE("without an audio device: one warning event, a final failure, and sound once a device is back") {
    AudioSandbox box;
    box.use_missing_card();
    Plugin p;
    for (int i = 0; i < 3; ++i) {
        auto [rc, err] = p.send("permission");
        CHECK(rc == NOTIFIER_FAIL);  // final: waiting does not make a sound card appear
        CHECK(err.find("no audio device") != std::string::npos);
        CHECK(err.find("PulseAudio") != std::string::npos);
        CHECK(err.find("ALSA \"default\"") != std::string::npos);
    }
    REQUIRE(p.recorder().events.size() == 1);
    CHECK(p.recorder().events[0].first == "no_audio_device");
    CHECK(p.recorder().events[0].second.find("PulseAudio") != std::string::npos);
    CHECK(p.recorder().events[0].second.find("ALSA") != std::string::npos);

    box.use_file_sink();
    auto [rc, err] = p.send("permission");
    CHECK_MESSAGE(rc == NOTIFIER_OK, err);
    CHECK(peak(box.played()) > 10000);
    CHECK(p.recorder().events.size() == 1);

    // Lost again after it came back: that is news, so it is reported again (once).
    box.use_missing_card();
    CHECK(p.send("done").first == NOTIFIER_FAIL);
    CHECK(p.send("done").first == NOTIFIER_FAIL);
    CHECK(p.recorder().events.size() == 2);
}

TEST_CASE("backend and device options choose the output") {
    AudioSandbox box;
    SUBCASE("alsa_device names the PCM") {
        Plugin p(Opts{{"backend", "alsa"}, {"alsa_device", "nosuchpcm"}});
        auto [rc, err] = p.send("done");
        CHECK(rc == NOTIFIER_FAIL);
        CHECK(err.find("ALSA \"nosuchpcm\"") != std::string::npos);
        CHECK(err.find("PulseAudio") == std::string::npos);  // only what was asked for is tried
    }
    SUBCASE("backend pulse never falls back to ALSA") {
        Plugin p(Opts{{"backend", "pulse"}});
        auto [rc, err] = p.send("done");
        CHECK(rc == NOTIFIER_FAIL);
        CHECK(err.find("PulseAudio") != std::string::npos);
        CHECK(err.find("ALSA") == std::string::npos);
        CHECK(!fs::exists(box.out()));
    }
    SUBCASE("backend alsa plays on ALSA") {
        Plugin p(Opts{{"backend", "alsa"}});
        CHECK(p.send("done").first == NOTIFIER_OK);
        CHECK(peak(box.played()) > 10000);
    }
}

TEST_CASE("bad options are refused with the reason") {
    AudioSandbox box;
    for (auto [key, value, why] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"volume", "2", "volume: expected a number from 0 to 1"},
             {"volume", "loud", "volume: expected a number from 0 to 1"},
             {"backend", "oss", "backend: expected auto, pulse or alsa"},
             {"max_seconds", "0", "max_seconds"},
             {"sounds_dir", "/nonexistent/sounds", "no sounds directory at /nonexistent/sounds"},
             {"colume", "1", "unknown option colume"}}) {
        Plugin p(Opts{{key, value}});
        CHECK_FALSE(p.created());
        CHECK_MESSAGE(p.create_error().find(why) != std::string::npos, p.create_error());
    }
    Plugin p;
    auto [rc, err] = p.send("done", {{"volum", "0.5"}});
    CHECK(rc == NOTIFIER_FAIL);
    CHECK(err.find("unknown option volum") != std::string::npos);
    std::tie(rc, err) = p.send("done", {{"volume", "-1"}});
    CHECK(rc == NOTIFIER_FAIL);
    CHECK(err.find("volume") != std::string::npos);
}

TEST_CASE("concurrent sends each play a whole chime, one after the other") {
    AudioSandbox box;
    Plugin p;
    std::vector<std::thread> threads;
    std::vector<int> results(4, -1);
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = p.send(i % 2 ? "question" : "permission").first; });
    for (auto& t : threads) t.join();
    for (int rc : results) CHECK(rc == NOTIFIER_OK);
    // The device was opened once per sound, never by two at a time: the last one is whole.
    auto played = box.played();
    CHECK((starts_with(played, expected(k_bundled / "question.wav")) ||
           starts_with(played, expected(k_bundled / "permission.wav"))));
}

TEST_CASE("the bundled sounds are found beside an installed plugin, or in sounds_dir") {
    AudioSandbox box;
    fs::path prefix = box.dir() / "prefix";
    fs::create_directories(prefix / "lib" / "tether" / "plugins");
    fs::create_directories(prefix / "share" / "tether" / "sounds");
    fs::copy_file(k_plugin, prefix / "lib" / "tether" / "plugins" / "tether-notifier-sound.so");
    // An installed set whose permission sound is a plain tone: proof of which was used.
    fs::path installed = prefix / "share" / "tether" / "sounds" / "permission.wav";
    write_tone(installed, 0.2, 0.25, 48000, 1);
    {
        Plugin p(Opts{}, prefix / "lib" / "tether" / "plugins" / "tether-notifier-sound.so");
        REQUIRE(p.send("permission").first == NOTIFIER_OK);
        CHECK(starts_with(box.played(), expected(installed)));
    }
    Plugin p(Opts{{"sounds_dir", (prefix / "share" / "tether" / "sounds").string()}});
    REQUIRE(p.send("permission").first == NOTIFIER_OK);
    CHECK(starts_with(box.played(), expected(installed)));
    auto [rc, err] = p.send("question");
    CHECK(rc == NOTIFIER_FAIL);
    CHECK(err.find((prefix / "share" / "tether" / "sounds" / "question.wav").string()) != std::string::npos);
}
