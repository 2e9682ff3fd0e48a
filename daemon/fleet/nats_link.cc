// libnats behind Results.
#include "fleet/nats_link.h"

#include <nats/nats.h>

#include <chrono>
#include <vector>

namespace tether {

namespace {

Error nats_error(const std::string& what, natsStatus s, jsErrCode js = static_cast<jsErrCode>(0)) {
    std::string why = natsStatus_GetText(s);
    natsStatus last = NATS_OK;
    const char* detail = nats_GetLastError(&last);
    if (detail && *detail && why.find(detail) == std::string::npos) why += std::string(" (") + detail + ")";
    if (js) why += ", JetStream error " + std::to_string(static_cast<int>(js));
    return Error{"nats: " + what + " failed: " + why};
}

void set_header(natsMsg* m, const char* key, const std::string& value) { natsMsgHeader_Set(m, key, value.c_str()); }

}  // namespace

NatsMessage::~NatsMessage() {
    if (m_msg) natsMsg_Destroy(m_msg);
}

std::string_view NatsMessage::subject() const { return natsMsg_GetSubject(m_msg); }

std::string_view NatsMessage::data() const {
    const char* d = natsMsg_GetData(m_msg);
    return d ? std::string_view(d, static_cast<size_t>(natsMsg_GetDataLength(m_msg))) : std::string_view();
}

const char* NatsMessage::header(const char* name) const {
    const char* v = nullptr;
    return natsMsgHeader_Get(m_msg, name, &v) == NATS_OK ? v : nullptr;
}

const char* NatsMessage::reply() const { return natsMsg_GetReply(m_msg); }

uint64_t NatsMessage::stream_seq() const {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m_msg) != NATS_OK || !meta) return natsMsg_GetSequence(m_msg);
    uint64_t seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    return seq;
}

Result<std::unique_ptr<NatsLink>> NatsLink::open(const FleetConfig& config, std::function<void(bool, const std::string&)> on_status) {
    std::unique_ptr<NatsLink> link(new NatsLink());
    link->m_config = config;
    link->m_on_status = std::move(on_status);
    natsOptions* opts = nullptr;
    if (natsStatus s = natsOptions_Create(&opts); s != NATS_OK) return nats_error("options", s);
    struct OptionsFree {
        natsOptions* o;
        ~OptionsFree() { natsOptions_Destroy(o); }
    } free_opts{opts};
    std::vector<const char*> servers;
    bool tls = !config.tls_ca.empty() || !config.tls_cert.empty();
    for (const auto& u : config.urls) {
        servers.push_back(u.c_str());
        tls = tls || u.rfind("tls://", 0) == 0;
    }
    std::string name = "tetherd " + config.host;
    natsStatus s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
    std::string inbox = fleet_inbox_prefix(config.host);
    if (s == NATS_OK) s = natsOptions_SetName(opts, name.c_str());
    if (s == NATS_OK) s = natsOptions_SetCustomInboxPrefix(opts, inbox.c_str());
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
    if (s == NATS_OK) s = natsOptions_SetReconnectJitter(opts, 100, 500);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
    if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 5000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts, 2);
    if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(opts, true);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, true, &NatsLink::on_reconnected, link.get());
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, &NatsLink::on_disconnected, link.get());
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, &NatsLink::on_reconnected, link.get());
    if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, &NatsLink::on_closed, link.get());
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(opts, reinterpret_cast<natsErrHandler>(&NatsLink::on_error), link.get());
    if (s != NATS_OK) return nats_error("setting the connection options", s);
    if (!config.credentials.empty())
        if (s = natsOptions_SetUserCredentialsFromFiles(opts, config.credentials.c_str(), nullptr); s != NATS_OK)
            return nats_error("reading the credentials file " + config.credentials, s);
    if (!config.user.empty())
        if (s = natsOptions_SetUserInfo(opts, config.user.c_str(), config.password.c_str()); s != NATS_OK)
            return nats_error("setting the user", s);
    if (!config.token.empty())
        if (s = natsOptions_SetToken(opts, config.token.c_str()); s != NATS_OK) return nats_error("setting the token", s);
    if (tls) {
        if (s = natsOptions_SetSecure(opts, true); s != NATS_OK) return nats_error("enabling TLS", s);
        if (!config.tls_ca.empty())
            if (s = natsOptions_LoadCATrustedCertificates(opts, config.tls_ca.c_str()); s != NATS_OK)
                return nats_error("loading the CA certificate " + config.tls_ca, s);
        if (!config.tls_cert.empty())
            if (s = natsOptions_LoadCertificatesChain(opts, config.tls_cert.c_str(), config.tls_key.c_str()); s != NATS_OK)
                return nats_error("loading the client certificate " + config.tls_cert, s);
    }
    s = natsConnection_Connect(&link->m_conn, opts);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) return nats_error("connecting to " + config.urls.front(), s);
    // JetStream API calls wait at most this long (libnats' default is 5 s), so that a
    // server that went away never holds a fleet thread, or a stopping daemon, for long.
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 2000;
    if (s = natsConnection_JetStream(&link->m_js, link->m_conn, &jo); s != NATS_OK) return nats_error("JetStream context", s);
    return link;
}

NatsLink::~NatsLink() {
    if (m_served) {
        // Waits for a request being answered (its handler is bounded) before the handler goes.
        if (connected() && natsSubscription_Drain(m_served) == NATS_OK) natsSubscription_WaitForDrainCompletion(m_served, 5000);
        else natsSubscription_Unsubscribe(m_served);
        natsSubscription_Destroy(m_served);
    }
    if (m_js) jsCtx_Destroy(m_js);
    if (m_conn) {
        natsConnection_Close(m_conn);
        std::unique_lock lock(m_closed_mutex);
        m_closed_cv.wait_for(lock, std::chrono::seconds(5), [this] { return m_closed; });
        lock.unlock();
        natsConnection_Destroy(m_conn);
    }
}

void NatsLink::on_closed(natsConnection*, void* self) {
    auto* link = static_cast<NatsLink*>(self);
    std::lock_guard lock(link->m_closed_mutex);
    link->m_closed = true;
    link->m_closed_cv.notify_all();
}

void NatsLink::on_disconnected(natsConnection*, void* self) {
    auto* link = static_cast<NatsLink*>(self);
    try {
        if (link->m_on_status) link->m_on_status(false, "disconnected from the fleet server");
    } catch (...) {
    }
}

void NatsLink::on_reconnected(natsConnection* nc, void* self) {
    auto* link = static_cast<NatsLink*>(self);
    try {
        {
            std::lock_guard lock(link->m_error_mutex);
            link->m_async_error.clear();
        }
        char url[256] = "";
        natsConnection_GetConnectedUrl(nc, url, sizeof url);
        if (link->m_on_status) link->m_on_status(true, std::string("connected to ") + url);
    } catch (...) {
    }
}

bool NatsLink::connected() const { return natsConnection_Status(m_conn) == NATS_CONN_STATUS_CONNECTED; }

std::string NatsLink::last_error() const {
    {
        std::lock_guard lock(m_error_mutex);
        if (!m_async_error.empty()) return m_async_error;
    }
    const char* text = nullptr;
    natsStatus s = natsConnection_GetLastError(m_conn, &text);
    if (s == NATS_OK) return "";
    return text && *text ? text : natsStatus_GetText(s);
}

void NatsLink::on_error(natsConnection* nc, natsSubscription*, int status, void* self) {
    auto* link = static_cast<NatsLink*>(self);
    try {
        const char* text = nullptr;
        natsConnection_GetLastError(nc, &text);
        std::string why = text && *text ? text : natsStatus_GetText(static_cast<natsStatus>(status));
        std::lock_guard lock(link->m_error_mutex);
        link->m_async_error = why;
    } catch (...) {
    }
}

Status NatsLink::ensure_stream() {
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&info, m_js, m_config.stream.c_str(), nullptr, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(info);
        return {};
    }
    if (s != NATS_NOT_FOUND) return nats_error("looking up stream " + m_config.stream, s, jerr);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = m_config.stream.c_str();
    const char* subjects[] = {k_fleet_subjects};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.MaxAge = m_config.max_age_s * int64_t{1000000000};
    s = js_AddStream(&info, m_js, &cfg, nullptr, &jerr);
    if (s != NATS_OK) return nats_error("creating stream " + m_config.stream, s, jerr);
    jsStreamInfo_Destroy(info);
    return {};
}

Result<bool> NatsLink::publish(const FleetFact& f, long timeout_ms) {
    std::string subject = fleet_subject(f.host, f.kind);
    natsMsg* m = nullptr;
    natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, f.payload.data(), static_cast<int>(f.payload.size()));
    if (s != NATS_OK) return nats_error("message", s);
    std::string id = fleet_msg_id(f.host, f.seq);
    set_header(m, "Nats-Msg-Id", id);
    set_header(m, "Tether-Host", f.host);
    set_header(m, "Tether-Seq", std::to_string(f.seq));
    set_header(m, "Tether-Epoch", std::to_string(f.epoch));
    set_header(m, "Tether-Time", std::to_string(f.time_us));
    set_header(m, "Tether-Session", std::to_string(f.session));
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = timeout_ms;
    po.ExpectStream = m_config.stream.c_str();
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_PublishMsg(&ack, m_js, m, &po, &jerr);
    natsMsg_Destroy(m);
    if (s != NATS_OK) return nats_error("publishing " + id, s, jerr);
    bool duplicate = ack->Duplicate;
    jsPubAck_Destroy(ack);
    return duplicate;
}

Result<std::optional<FleetFact>> NatsLink::last_fact_of(const std::string& host) {
    natsMsg* m = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    std::string subject = "tether." + host + ".*";
    natsStatus s = js_GetLastMsg(&m, m_js, m_config.stream.c_str(), subject.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND) return std::optional<FleetFact>();
    if (s != NATS_OK) return nats_error("reading the last message of " + subject, s, jerr);
    NatsMessage msg(m);
    auto f = msg.fact();
    if (!f) return Error{"nats: the stream's last message of " + host + " does not read: " + f.error().message};
    return std::optional<FleetFact>(std::move(*f));
}

NatsLink::Reader::~Reader() {
    if (!m_sub) return;
    // Unsubscribing deletes the consumer on the server: a request that would wait for a
    // server that is gone (it drops an ephemeral consumer nobody reads by itself).
    if (m_link.connected()) natsSubscription_Unsubscribe(m_sub);
    natsSubscription_Destroy(m_sub);
}

Result<std::optional<NatsMessage>> NatsLink::Reader::next(long timeout_ms) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, m_sub, timeout_ms);
    if (s == NATS_TIMEOUT) return std::optional<NatsMessage>();
    if (s != NATS_OK) return nats_error("reading the stream", s);
    return std::optional<NatsMessage>(NatsMessage(m));
}

Result<std::unique_ptr<NatsLink::Reader>> NatsLink::read_stream(uint64_t from) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = m_config.stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = from <= 1 ? js_DeliverAll : js_DeliverByStartSequence;
    if (from > 1) so.Config.OptStartSeq = from;
    auto reader = std::unique_ptr<Reader>(new Reader(*this));
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_SubscribeSync(&reader->m_sub, m_js, k_fleet_subjects, nullptr, &so, &jerr);
    if (s != NATS_OK) return nats_error("subscribing to stream " + m_config.stream, s, jerr);
    // The view may lag; libnats' default pending limits would drop messages instead.
    natsSubscription_SetPendingLimits(reader->m_sub, -1, -1);
    return reader;
}

void NatsLink::on_request(natsConnection* nc, natsSubscription*, natsMsg* m, void* self) {
    auto* link = static_cast<NatsLink*>(self);
    NatsMessage msg(m);
    try {
        std::string answer = link->m_handler(msg.subject(), msg.data());
        if (const char* reply = msg.reply(); reply && *reply)
            natsConnection_Publish(nc, reply, answer.data(), static_cast<int>(answer.size()));
    } catch (...) {
    }
}

Status NatsLink::serve(const std::string& subject, Handler handler) {
    m_handler = std::move(handler);
    natsStatus s = natsConnection_Subscribe(&m_served, m_conn, subject.c_str(), &NatsLink::on_request, this);
    // A connection the server already closed for good (a refused password, say) is a link
    // that is down, not a fleet that cannot start: its status says why.
    if (s == NATS_CONNECTION_CLOSED) return {};
    if (s != NATS_OK) return nats_error("subscribing to " + subject, s);
    return {};
}

Result<std::string> NatsLink::request(const std::string& subject, const std::string& data, long timeout_ms) {
    natsMsg* reply = nullptr;
    natsStatus s = natsConnection_Request(&reply, m_conn, subject.c_str(), data.data(), static_cast<int>(data.size()), timeout_ms);
    if (s == NATS_NO_RESPONDERS) return Error{"nobody answers on " + subject};
    if (s == NATS_TIMEOUT) return Error{"no answer on " + subject + " within " + std::to_string(timeout_ms) + " ms"};
    if (s != NATS_OK) return nats_error("request on " + subject, s);
    NatsMessage msg(reply);
    if (natsMsg_IsNoResponders(reply)) return Error{"nobody answers on " + subject};
    return std::string(msg.data());
}

}  // namespace tether
