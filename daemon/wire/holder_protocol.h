// The private protocol between tetherd and a session's holder process (tether-holder).
// The holder owns the PTY and the agent; the daemon owns the log. Output travels with
// its byte offset in the session's output stream, and the daemon acknowledges offsets
// once they are durable, so a daemon killed at any moment resumes from exactly the last
// byte it made durable: nothing lost, nothing twice.
//
// Frame: u8 type | u32 length, big-endian | payload. Fields payloads are "key=value\n"
// lines (values escaped: backslash and newline), so argv and env survive any bytes but
// NUL. Offsets are u64 big-endian.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether {

constexpr int k_holder_protocol = 1;
constexpr size_t k_holder_max_payload = (1u << 20) + 64;

enum class HolderMsg : uint8_t {
    // daemon -> holder
    Spawn = 1,    // fields: cols, rows, cwd, arg (repeated), env (repeated); only on the start pipe
    Resume = 2,   // u64: send output from this offset (must be first on every connection)
    Input = 3,    // bytes for the PTY
    Resize = 4,   // fields: cols, rows
    Signal = 5,   // fields: signal (to the agent's process group)
    Ack = 6,      // u64: output below this offset is durable; the holder may drop it
    Collect = 7,  // the exit is recorded: close the PTY and end
    Rebind = 8,   // fields: session, state_dir, socket: become that session of another
                  // log (a daemon adopting an orphan); output offsets restart at 0 from
                  // the first byte no daemon confirmed. Before Resume.
    // holder -> daemon
    Hello = 20,        // fields: see HolderHello
    SpawnFailed = 21,  // text: why the agent could not start (the holder then exits)
    Output = 22,       // u64 offset | bytes
    Exit = 23,         // fields: signaled, code, core_dumped; after all output read before it
    Eof = 24,          // the PTY reported end of output (every writer of the slave gone)
    Refused = 25,      // text: why this connection is refused (then closed)
};

// What a Spawn message carries: the program the holder starts on its PTY (PtyProcess).
struct SpawnRequest {
    // Members all have initializers, so designated initializers may leave any out.
    // argv[0] is searched like execvp: in the PATH of `env` if it has one, else the
    // daemon's; an argv[0] containing '/' is used as is.
    std::vector<std::string> argv{};
    std::vector<std::string> env{};  // the child's whole environment, "K=V" each
    std::string cwd{};               // empty: inherit the daemon's
    int cols = 80;
    int rows = 24;
    int umask = -1;  // the file mode mask the program starts with; -1: inherit ours
};

struct HolderFrame {
    HolderMsg type{};
    std::string payload;
};

// Appends one frame to out.
void append_holder_frame(std::string& out, HolderMsg type, std::string_view payload);
std::string holder_offset_payload(uint64_t offset, std::string_view bytes = {});
// The offset at the front of an Output/Resume/Ack payload; nullopt when too short.
std::optional<uint64_t> holder_payload_offset(std::string_view payload);

// Incremental parser: feed bytes, take whole frames.
class HolderFrameReader {
public:
    void feed(std::string_view bytes) { m_buf.append(bytes); }
    // A frame, nullopt when more bytes are needed; an error text for an oversized frame.
    std::optional<HolderFrame> next(std::string* error);
    size_t buffered() const { return m_buf.size() - m_pos; }

private:
    std::string m_buf;
    size_t m_pos = 0;
};

// key=value lines, in order; keys may repeat.
class HolderFields {
public:
    HolderFields& add(const std::string& key, const std::string& value);
    HolderFields& add(const std::string& key, int64_t value) { return add(key, std::to_string(value)); }
    std::string encode() const;
    static HolderFields decode(std::string_view payload);

    std::string get(const std::string& key, const std::string& fallback = "") const;
    int64_t get_int(const std::string& key, int64_t fallback = 0) const;
    std::vector<std::string> get_all(const std::string& key) const;

private:
    std::vector<std::pair<std::string, std::string>> m_fields;
};

// What a holder says about itself on every new connection.
struct HolderHello {
    int protocol = 0;
    std::string version;
    int64_t session = 0;
    int agent_pid = 0;
    int holder_pid = 0;
    std::string state_dir;
    uint64_t produced = 0;  // output bytes read from the PTY so far
    uint64_t acked = 0;     // output bytes a daemon has confirmed durable
    int64_t started_us = 0;
    int64_t disconnected_us = 0;  // when the last daemon went away; 0: never had one
    int cols = 0, rows = 0;
    bool exited = false;  // the agent has ended (and is reaped): exit fields below
    bool signaled = false;
    int code = 0;
    bool core_dumped = false;
    std::vector<std::string> argv;  // what it runs, for adopting it into another log
    std::string cwd;

    HolderFields fields() const;
    static HolderHello from(const HolderFields& f);
};

}  // namespace tether
