// Recordings: timeline and export streams.
#include "recordings/recordings.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "recordings/asciicast.h"
#include "wire/protocol.h"
#include "wire/reply_stream.h"
#include "recordings/timeline.h"

namespace tether {

namespace {

// Reads the session's events after `after` in one bounded batch per call, so no SQLite
// statement stays open between loop turns (the writer commits in between).
class BatchReader {
public:
    BatchReader(EventLog& log, int64_t session, int64_t to_seq, bool skip_terminal_data, int64_t from_seq = 1)
        : m_log(log), m_session(session), m_to_seq(to_seq), m_skip(skip_terminal_data), m_next(from_seq) {}

    // Calls fn for events until it has produced `budget` bytes into out; true at the end.
    template <typename Fn>
    Result<bool> batch(std::string& out, size_t budget, Fn&& fn) {
        auto cursor = m_log.read(EventQuery{.session = m_session, .from_seq = m_next, .to_seq = m_to_seq,
                                            .skip_terminal_data = m_skip});
        if (!cursor) return cursor.error();
        while (out.size() < budget) {
            auto ev = cursor->next();
            if (!ev) return ev.error();
            if (!*ev) return true;
            m_next = (*ev)->seq + 1;
            if (!fn(**ev)) return true;
        }
        return false;
    }

private:
    EventLog& m_log;
    int64_t m_session;
    int64_t m_to_seq;
    bool m_skip;
    int64_t m_next;
};

class TimelineSource : public StreamSource {
public:
    TimelineSource(EventLog& log, int64_t session) : m_reader(log, session, log.durable_seq(), true) {}

    Result<bool> produce(std::string& out, size_t budget) override {
        return m_reader.batch(out, budget, [&](const Event& ev) {
            if (auto entry = timeline_entry(ev)) {
                out += dump_json(*entry);
                out += '\n';
                ++m_count;
            }
            return true;
        });
    }
    nlohmann::json summary() const override { return {{"entries", m_count}}; }

private:
    BatchReader m_reader;
    int64_t m_count = 0;
};

// from_us/to_us cut the recording. From the start, the header comes from SessionStarted;
// from a later moment, the screen as it was then (a redraw from the seek, `prelude`) is
// the first output, at time 0, and the events after it follow.
class AsciicastSource : public StreamSource {
public:
    struct Start {
        int64_t after_seq = 0;  // events after this one are played
        int cols = 0, rows = 0;
        std::string prelude;
    };

    AsciicastSource(EventLog& log, const SessionRow& row, int64_t from_us, int64_t to_us, std::optional<Start> start)
        : m_reader(log, row.id, log.durable_seq(), false, start ? start->after_seq + 1 : 1), m_row(row),
          m_from_us(from_us), m_to_us(to_us), m_encoder(from_us), m_start(std::move(start)) {}

    Result<bool> produce(std::string& out, size_t budget) override {
        if (m_start && !m_header) {
            out += AsciicastEncoder::header(header(m_start->cols, m_start->rows));
            out += m_encoder.output(m_from_us, m_start->prelude);
            m_header = true;
        }
        auto finished = m_reader.batch(out, budget, [&](const Event& ev) {
            if (ev.time_us > m_to_us) return false;
            int64_t t = std::max(ev.time_us, m_from_us);
            if (!m_header) {
                if (ev.kind != EventKind::SessionStarted) return true;  // nothing to play before it
                auto j = ev.json();
                out += AsciicastEncoder::header(header(j.value("cols", 80), j.value("rows", 24)));
                m_header = true;
                return true;
            }
            if (ev.kind == EventKind::OutputChunk) {
                out += m_encoder.output(t, ev.payload);
                m_bytes += ev.payload.size();
            } else if (ev.kind == EventKind::Resized) {
                auto j = ev.json();
                out += m_encoder.resize(t, j.value("cols", 80), j.value("rows", 24));
            } else if (std::string label = marker_label(ev); !label.empty()) {
                out += m_encoder.marker(t, label);
            }
            return true;
        });
        if (!finished) return finished;
        if (*finished) {
            if (!m_header) return Error{"export: session " + std::to_string(m_row.id) + " has no recorded start"};
            out += m_encoder.finish();
        }
        return finished;
    }
    nlohmann::json summary() const override { return {{"output_bytes", m_bytes}}; }

private:
    AsciicastHeader header(int cols, int rows) const {
        AsciicastHeader h{.cols = cols, .rows = rows, .start_us = m_from_us, .title = m_row.name, .command = {}};
        for (const auto& part : m_row.command) h.command += (h.command.empty() ? "" : " ") + part;
        return h;
    }

    BatchReader m_reader;
    SessionRow m_row;
    int64_t m_from_us, m_to_us;
    AsciicastEncoder m_encoder;
    std::optional<Start> m_start;
    bool m_header = false;
    int64_t m_bytes = 0;
};

}  // namespace

std::string marker_label(const Event& ev) {
    if (ev.kind == EventKind::StateChanged) {
        auto j = ev.json();
        std::string label = j.value("to", "");
        if (j.contains("tool") && j["tool"].is_string() && !j["tool"].get<std::string>().empty())
            label += ": " + j["tool"].get<std::string>();
        return label;
    }
    if (ev.kind == EventKind::MarkerAdded) return ev.json().value("text", "marker");
    return "";
}

Recordings::Recordings(EventLoop& loop, Store& store, std::string log_path)
    : m_store(store), m_seeker(loop, std::move(log_path)) {}
Recordings::~Recordings() = default;

bool Recordings::handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req) {
    if (cmd == "timeline") cmd_timeline(conn, req);
    else if (cmd == "export") cmd_export(conn, req);
    else if (cmd == "screen") cmd_screen(conn, req);
    else if (cmd == "grep") cmd_grep(conn, req);
    else return false;
    return true;
}

const SessionRow* Recordings::session_of(const std::shared_ptr<Connection>& conn, const nlohmann::json& req,
                                         const char* what) {
    nlohmann::json ref = req.value("session", nlohmann::json());
    const SessionRow* row = m_store.sessions().resolve(ref);
    if (!row) conn->reply_error(req, std::string(what) + ": no such session: " + (ref.is_string() ? ref.get<std::string>() : dump_json(ref)));
    return row;
}

void Recordings::cmd_timeline(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    const SessionRow* row = session_of(conn, req, "timeline");
    if (!row) return;
    // What the timeline streams must be committed: flush what is staged first.
    if (auto s = m_store.flush(); !s) return conn->reply_error(req, "timeline: " + s.error().message);
    start_reply_stream(conn, req, std::make_shared<TimelineSource>(m_store.log(), row->id));
}

void Recordings::rebuild() {
    std::vector<int64_t> ids;
    for (const auto& [id, row] : m_store.sessions().sessions) ids.push_back(id);
    m_seeker.rebuild(std::move(ids));
}

void Recordings::cmd_screen(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    const SessionRow* row = session_of(conn, req, "screen");
    if (!row) return;
    auto number = [&](const char* key) -> std::optional<int64_t> {
        if (req.contains(key) && req[key].is_number_integer()) return req[key].get<int64_t>();
        return std::nullopt;
    };
    ScreenSeeker::Target target{.session = row->id, .seq = number("seq"), .time_us = number("at_us")};
    if (auto offset = number("at_offset_us")) target.time_us = row->started_us + *offset;
    if (target.time_us && *target.time_us < row->started_us)
        return conn->reply_error(req, "screen: that moment is before session " + std::to_string(row->id) + " started");
    if (auto s = m_store.flush(); !s) return conn->reply_error(req, "screen: " + s.error().message);
    bool ansi = req.value("ansi", false);
    std::weak_ptr<Connection> weak = conn;
    m_seeker.seek(target, [weak, req, ansi, id = row->id](const Result<ScreenView>& view) {
        auto c = weak.lock();
        if (!c) return;
        if (!view) return c->reply_error(req, view.error().message);
        c->reply_ok(req, {{"session", id}, {"seq", view->seq}, {"time_us", view->time_us}, {"cols", view->cols},
                          {"rows", view->rows}, {"cursor_row", view->cursor_row}, {"cursor_col", view->cursor_col},
                          {"alt_screen", view->alt_screen}, {"title", view->title},
                          {"screen", ansi ? view->ansi : view->text}, {"keyframe_seq", view->keyframe_seq},
                          {"replayed_bytes", view->replayed_bytes}});
    });
}

void Recordings::cmd_grep(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    if (!req.contains("pattern") || !req["pattern"].is_string() || req["pattern"].get<std::string>().empty())
        return conn->reply_error(req, "grep: \"pattern\" must be a non-empty string");
    std::optional<int64_t> session;
    if (req.contains("session") && !req["session"].is_null()) {
        const SessionRow* row = session_of(conn, req, "grep");
        if (!row) return;
        session = row->id;
    }
    size_t limit = std::clamp<size_t>(req.value("limit", size_t{100}), 1, 1000);
    std::weak_ptr<Connection> weak = conn;
    m_seeker.search(req["pattern"].get<std::string>(), session, limit, [this, weak, req](const Result<std::vector<TextHit>>& hits) {
        auto c = weak.lock();
        if (!c) return;
        if (!hits) return c->reply_error(req, hits.error().message);
        nlohmann::json list = nlohmann::json::array();
        for (const TextHit& h : *hits) {
            const SessionRow* row = m_store.sessions().find(h.session);
            list.push_back({{"session", h.session}, {"name", row ? row->name : ""}, {"seq", h.seq}, {"time_us", h.time_us},
                            {"line", h.line}, {"on_screen", h.on_screen}});
        }
        c->reply_ok(req, {{"hits", list}});
    });
}

void Recordings::cmd_export(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    const SessionRow* row = session_of(conn, req, "export");
    if (!row) return;
    std::string format = req.value("format", "asciicast");
    if (format != "asciicast") return conn->reply_error(req, "export: unknown format \"" + format + "\" (asciicast is the one there is)");
    auto number = [&](const char* key, int64_t fallback) {
        return req.contains(key) && req[key].is_number_integer() ? req[key].get<int64_t>() : fallback;
    };
    int64_t from_us = number("from_us", row->started_us + number("from_offset_us", 0));
    int64_t to_us = number("to_us", req.contains("to_offset_us") ? row->started_us + number("to_offset_us", 0)
                                                                  : std::numeric_limits<int64_t>::max());
    if (from_us < row->started_us) from_us = row->started_us;
    if (to_us < from_us) return conn->reply_error(req, "export: the end of the range comes before its start");
    if (auto s = m_store.flush(); !s) return conn->reply_error(req, "export: " + s.error().message);
    if (from_us == row->started_us)
        return start_reply_stream(conn, req, std::make_shared<AsciicastSource>(m_store.log(), *row, from_us, to_us, std::nullopt));
    // From a later moment: the screen then (a keyframe and a short tail), not all that led to it.
    std::weak_ptr<Connection> weak = conn;
    m_seeker.seek({.session = row->id, .seq = std::nullopt, .time_us = from_us},
                  [this, weak, req, row = *row, from_us, to_us](const Result<ScreenView>& view) {
                      auto c = weak.lock();
                      if (!c) return;
                      if (!view) return c->reply_error(req, "export: " + view.error().message);
                      AsciicastSource::Start start{.after_seq = view->seq, .cols = view->cols, .rows = view->rows,
                                                   .prelude = view->ansi};
                      start_reply_stream(c, req, std::make_shared<AsciicastSource>(m_store.log(), row, from_us, to_us, start));
                  });
}

}  // namespace tether
