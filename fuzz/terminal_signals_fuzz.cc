// Fuzz target `terminal_signals`: program output through the streaming scanner for
// titles, bells and OSC 9/777 notifications, and the events they become. Checks: the
// same signals whether the bytes come at once or cut anywhere; texts within the cap;
// each becomes an event payload that reads back as JSON (any bytes, UTF-8 or not).
#include <vector>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "log/events.h"
#include "terminal/terminal_signals.h"

using namespace tether;

TETHER_FUZZ_TARGET(terminal_signals) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::vector<TerminalSignal> whole, pieces;
    TerminalSignalScanner a;
    a.scan(bytes, whole);
    TerminalSignalScanner b;
    fuzz::Cuts cuts(bytes, 17);
    for (size_t pos = 0; pos < bytes.size();) {
        size_t n = std::min(cuts.next(), bytes.size() - pos);
        b.scan(bytes.substr(pos, n), pieces);
        pos += n;
    }
    FUZZ_CHECK(whole == pieces, "signals do not depend on where the output was cut");
    for (const auto& s : whole) {
        FUZZ_CHECK(s.text.size() <= TerminalSignalScanner::k_max_osc, "an OSC text within the cap");
        Event ev = make_json_event(1, s.kind == TerminalSignal::Title ? EventKind::TitleChanged : EventKind::TerminalNotified,
                                   {{"title", s.text}});
        FUZZ_CHECK(ev.json().is_object(), "the payload reads back");
    }
    return 0;
}
