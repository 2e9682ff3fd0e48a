// ReplyStream: production paced by the client's reading.
#include "wire/reply_stream.h"

namespace tether {

namespace {

constexpr size_t k_queued_limit = size_t{1} << 20;  // well under the 8 MiB reply cap
constexpr size_t k_piece = size_t{256} << 10;

struct Pump : std::enable_shared_from_this<Pump> {
    std::weak_ptr<Connection> conn;
    nlohmann::json req;
    std::shared_ptr<StreamSource> source;
    bool done = false;

    void step() {
        auto c = conn.lock();
        if (done || !c || !c->open()) return;
        auto keep = shared_from_this();
        while (c->open() && c->output_pending() < k_queued_limit) {
            std::string out;
            auto finished = source->produce(out, k_piece);
            if (!finished) {
                done = true;
                return c->reply_error(req, finished.error().message);
            }
            if (!out.empty()) c->send_bytes(out);
            if (*finished) {
                done = true;
                // on_drained stays set (replacing it here would destroy the closure that
                // may be running this); `done` makes later calls no-ops.
                return c->reply_ok(req, source->summary());
            }
        }
    }
};

}  // namespace

void start_reply_stream(const std::shared_ptr<Connection>& conn, const nlohmann::json& req,
                        std::shared_ptr<StreamSource> source) {
    auto pump = std::make_shared<Pump>();
    pump->conn = conn;
    pump->req = req;
    pump->source = std::move(source);
    conn->on_drained = [pump] { pump->step(); };
    pump->step();
}

}  // namespace tether
