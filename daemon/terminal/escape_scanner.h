// EscapeScanner: the byte scanner in front of libvterm 0.1.4. It hands libvterm whole
// sequences and whole UTF-8 characters only (0.1.4 loses strings and UTF-8 split across
// writes), drops what 0.1.4 would print or mishandle (SOS/PM/APC, over-long sequences,
// inverted scroll regions, DECSTR, which it ignores), and tracks the modes libvterm keeps
// private. The Screen is its Sink: libvterm's input, and the moments where the Screen must
// read libvterm's state before a sequence takes effect.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "terminal/screen_modes.h"

namespace tether::screen {

class EscapeScanner {
public:
    class Sink {
    public:
        virtual void write_terminal(const char* bytes, size_t n) = 0;  // whole bytes, in order
        // Each runs after everything before the sequence has been written.
        virtual void save_cursor() = 0;       // ESC 7, ?1048h, ?1049h
        virtual void enter_alt_screen() = 0;  // ?47h, ?1047h, ?1049h
        virtual void soft_reset() = 0;        // DECSTR, modes already reset here: write the rest
        virtual int terminal_rows() const = 0;

    protected:
        ~Sink() = default;
    };

    explicit EscapeScanner(Sink& sink) : m_sink(sink) {}

    // Scans bytes and writes every whole piece to the sink; an unfinished sequence or UTF-8
    // character is held back for the next feed().
    void feed(std::string_view bytes);

    Modes& modes() { return m_modes; }
    const Modes& modes() const { return m_modes; }
    // Inside a sequence being thrown away: what is held cannot be re-fed.
    bool discarding() const;
    // The last text byte ended or continued a UTF-8 char: ASCII after it must be written
    // apart when a drawing charset is in use (see scan_ground).
    bool after_utf8() const { return m_after_utf8; }
    // The last byte was text, which a combining char that follows would join.
    bool after_text() const { return m_after_text; }
    // The unfinished sequence (or UTF-8 char) held back.
    const std::string& held() const { return m_unfed; }

private:
    enum class Scan : uint8_t {
        ground,
        esc,
        esc_intermediate,
        csi,
        string,  // OSC, DCS, SOS, PM, APC: up to BEL or ST
        string_esc,
        discard_csi,
        discard_string,
        discard_string_esc,
    };

    struct Csi {
        static constexpr int k_max_params = 16;
        std::array<int, k_max_params> params{};  // -1: left out
        int count = 0;
        int current = -1;
        char leader = 0;        // '?', '>', '<', '=' right after CSI
        char intermediate = 0;  // the last of 0x20-0x2F
        bool malformed = false;

        void add(unsigned char c);
        void finish_param();
        int param(int i, int fallback) const;
    };

    void scan(unsigned char c);
    void scan_ground(unsigned char c);
    void scan_escape(unsigned char c);
    void scan_csi(unsigned char c);
    void scan_string(unsigned char c, size_t held);
    void begin_escape();
    void finish();
    void end_string();
    void abort_string();
    void write(size_t n);
    void dispatch_csi(char final);
    void set_dec_mode(int mode, bool on);
    void set_region(int top, int bottom);
    void soft_reset();
    void save_cursor();
    void enter_alt_screen();

    Sink& m_sink;
    Modes m_modes;
    // Scanned bytes not yet given to libvterm: [0, m_safe) is whole, the rest is an
    // unfinished sequence or UTF-8 character starting at m_seq_start.
    std::string m_unfed;
    size_t m_safe = 0;
    size_t m_seq_start = 0;
    Scan m_scan = Scan::ground;
    char m_string_kind = 0;   // the byte after ESC that opened the string
    char m_intermediate = 0;  // ESC's intermediate byte, as in ESC ( 0
    int m_utf8_need = 0;
    bool m_after_utf8 = false;
    bool m_after_text = false;
    Csi m_csi;
};

}  // namespace tether::screen
