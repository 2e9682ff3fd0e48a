// Fuzz target `control`: bytes from a client of the control socket, through the real
// framing (Connection), the hello and every request handler of an in-process daemon.
// Input: one flag byte (bit 0: the harness sends a valid hello first), then the bytes
// the client writes. Requests that would start programs or stop the daemon are refused
// (is_unsafe_command). Findings: crashes, sanitizer reports, an exception escaping a
// handler (the request would go unanswered), a connection the daemon never closes.
#include "fuzz_daemon.h"
#include "fuzz_support.h"
#include "fuzz_target.h"
#include "wire/protocol.h"

using namespace tether;

TETHER_FUZZ_TARGET(control) {
    fuzz::FuzzInput in(data, size);
    bool hello = in.flag();
    std::string_view bytes = in.rest();
    // The same scan as the daemon's: look at each whole frame it would act on.
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto p = reinterpret_cast<const uint8_t*>(bytes.data()) + pos;
        FrameScan scan = scan_frame(p, bytes.size() - pos);
        if (scan.kind != FrameScan::Complete) break;
        Frame f = decode_frame(p, scan.frame_size);
        if (f.type == FrameType::Json)
            if (auto j = parse_json_object(f.body); j && j->contains("cmd") && (*j)["cmd"].is_string() &&
                                                    fuzz::is_unsafe_command((*j)["cmd"].get<std::string>()))
                return -1;
        pos += scan.frame_size;
    }
    static fuzz::FuzzDaemon daemon;
    daemon.converse({std::string(bytes)}, hello);
    return 0;
}
