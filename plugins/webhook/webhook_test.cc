// tether-notifier-webhook, loaded through the ABI, against a real HTTP server on 127.0.0.1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "http_test_server.h"
#include "notifier_loader.h"
#include "support.h"

using namespace tether::test;

namespace {

const std::string k_secret = "whsec-test-0123456789";

std::map<std::string, std::string> options_for(const HttpTestServer& server, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> o{{"url", server.url("/hooks/tether")}, {"secret", k_secret}};
    for (auto& [k, v] : extra) o[k] = v;
    return o;
}

std::string hmac_hex(const std::string& key, const std::string& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         mac, &len);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < len; ++i) std::snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return std::string(hex, 2 * len);
}

// Verifies a request the way a receiver would (README.md): constant-time compare.
bool signature_valid(const HttpRequest& r, const std::string& secret) {
    std::string sig = r.header("x-tether-signature");
    if (sig.rfind("sha256=", 0) != 0) return false;
    std::string want = hmac_hex(secret, r.header("x-tether-timestamp") + "." + r.body);
    std::string got = sig.substr(7);
    return got.size() == want.size() && CRYPTO_memcmp(got.data(), want.data(), got.size()) == 0;
}

HttpTestServer::Handler statuses(std::vector<int> codes) {
    return [codes](const HttpRequest&, int n) {
        HttpReply r;
        r.status = codes[std::min<size_t>(n - 1, codes.size() - 1)];
        r.body = r.status == 200 ? "ok" : "nope";
        return r;
    };
}

// A port on 127.0.0.1 where nothing listens.
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("a notification arrives as signed, versioned JSON with its headers") {
    HttpTestServer server;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    CHECK(std::string(n.plugin().name) == "webhook");
    REQUIRE(n.create(options_for(server, {{"header.X-Team", "blue"}})) == "");
    TestMessage m;
    m.idempotency_key = "42";
    m.attempt = 3;
    SendResult r = n.send(m);
    CHECK_MESSAGE(r.status == NOTIFIER_OK, r.error);

    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    const HttpRequest& q = reqs[0];
    CHECK(q.method == "POST");
    CHECK(q.uri == "/hooks/tether");
    CHECK(q.header("content-type") == "application/json");
    CHECK(q.header("idempotency-key") == "42");
    CHECK(q.header("x-tether-attempt") == "3");
    CHECK(q.header("x-tether-event") == "notification.permission");
    CHECK(q.header("x-team") == "blue");
    CHECK(std::stoll(q.header("x-tether-timestamp")) > 1700000000);
    CHECK(signature_valid(q, k_secret));
    CHECK_FALSE(signature_valid(q, "another secret"));

    auto doc = nlohmann::json::parse(q.body);
    CHECK(doc["schema_version"] == 1);
    CHECK(doc["event"] == "notification");
    CHECK(doc["kind"] == "permission");
    CHECK(doc["idempotency_key"] == "42");
    CHECK(doc["attempt"] == 3);
    CHECK(doc["rule"] == "permission");
    CHECK(doc["title"] == "api needs permission");
    CHECK(doc["body"] == "Bash: make deploy");
    CHECK(doc["session"] == nlohmann::json{{"id", "7"}, {"name", "api"}, {"agent", "claude"}, {"cwd", "/home/me/api"}});
    CHECK(doc["transition"] == nlohmann::json{{"from", "running"}, {"to", "needs_permission"}});
    CHECK(doc["tool"]["name"] == "Bash");
    CHECK(doc["tool"]["input"]["command"] == "make deploy");
    CHECK(doc["time_ms"] == 1795000000123);
    CHECK(doc["time"] == "2026-11-18T11:06:40.123Z");
    CHECK(doc["sent_at"].get<std::string>().size() == 24);
}

TEST_CASE("a notification without a tool has tool null, and a bad tool input stays text") {
    HttpTestServer server;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options_for(server)) == "");
    TestMessage done;
    done.kind = "done";
    done.tool = "";
    done.tool_input_json = "";
    done.message = "Done: ran make";
    REQUIRE(n.send(done).status == NOTIFIER_OK);
    TestMessage odd;
    odd.tool_input_json = "{not json";
    REQUIRE(n.send(odd).status == NOTIFIER_OK);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    auto a = nlohmann::json::parse(reqs[0].body);
    CHECK(a["tool"].is_null());
    CHECK(a["message"] == "Done: ran make");
    CHECK(nlohmann::json::parse(reqs[1].body)["tool"]["input"] == "{not json");
}

TEST_CASE("without a secret requests are unsigned, and the log says so") {
    HttpTestServer server;
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create({{"url", server.url("/x")}}) == "");
    REQUIRE(n.send(TestMessage{}).status == NOTIFIER_OK);
    CHECK(server.requests()[0].header("x-tether-signature") == "");
    CHECK(server.requests()[0].header("x-tether-timestamp") != "");
    CHECK(n.host_output().find("not signed") != std::string::npos);
}

TEST_CASE("5xx, 408 and 429 are retried, other 4xx fail, 2xx is success") {
    HttpTestServer server(statuses({500, 503, 408, 429, 400, 404, 301, 204}));
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options_for(server)) == "");
    std::vector<int> want{NOTIFIER_RETRY, NOTIFIER_RETRY, NOTIFIER_RETRY, NOTIFIER_RETRY,
                          NOTIFIER_FAIL,  NOTIFIER_FAIL,  NOTIFIER_FAIL,  NOTIFIER_OK};
    for (size_t i = 0; i < want.size(); ++i) {
        SendResult r = n.send(TestMessage{});
        INFO("request " << i + 1 << ": " << r.error);
        CHECK(r.status == want[i]);
        if (want[i] != NOTIFIER_OK) CHECK(r.error.find("HTTP ") != std::string::npos);
    }
    CHECK(server.requests().size() == want.size());
}

TEST_CASE("a 429's Retry-After is named in the error") {
    HttpTestServer server([](const HttpRequest&, int) {
        HttpReply r;
        r.status = 429;
        r.headers = {{"Retry-After", "7"}};
        return r;
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options_for(server)) == "");
    SendResult r = n.send(TestMessage{});
    CHECK(r.status == NOTIFIER_RETRY);
    CHECK(r.error.find("Retry-After 7 s") != std::string::npos);
}

TEST_CASE("a timeout is retried, and the next attempt succeeds with the same key") {
    HttpTestServer server([](const HttpRequest&, int n) {
        HttpReply r;
        if (n == 1) r.delay_ms = 20000;  // far past timeout_ms
        return r;
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create(options_for(server, {{"timeout_ms", "500"}})) == "");
    TestMessage m;
    m.idempotency_key = "9";
    SendResult first = n.send(m);
    CHECK(first.status == NOTIFIER_RETRY);
    CHECK(first.error.find("timeout_ms 500") != std::string::npos);
    // The retry, with a timeout no loaded machine reaches.
    REQUIRE(n.create(options_for(server, {{"timeout_ms", "30000"}})) == "");
    m.attempt = 2;
    SendResult second = n.send(m);
    CHECK_MESSAGE(second.status == NOTIFIER_OK, second.error);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].header("idempotency-key") == "9");
    CHECK(reqs[1].header("idempotency-key") == "9");
    CHECK(reqs[1].header("x-tether-attempt") == "2");
}

TEST_CASE("a refused connection is retried") {
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create({{"url", "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook"}}) == "");
    SendResult r = n.send(TestMessage{});
    CHECK(r.status == NOTIFIER_RETRY);
    CHECK(r.error.find("http://127.0.0.1:") != std::string::npos);
}

TEST_CASE("the URL's token, the secret and credential headers appear in no error or log") {
    const std::string token = "T0KEN-in-the-path-123";
    const std::string query = "key=QUERY-SECRET-456";
    const std::string auth = "Bearer AUTH-SECRET-789";
    // A hostile receiver that echoes everything it was sent.
    HttpTestServer server([](const HttpRequest& q, int) {
        HttpReply r;
        r.status = 400;
        r.body = q.uri + " " + q.header("authorization") + " " + q.body;
        return r;
    });
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    std::string url = server.url("/hooks/" + token + "?" + query);
    REQUIRE(n.create({{"url", url}, {"secret", k_secret}, {"header.Authorization", auth}}) == "");
    SendResult r = n.send(TestMessage{});
    CHECK(r.status == NOTIFIER_FAIL);
    CHECK(r.error.find("http://127.0.0.1:" + std::to_string(server.port())) != std::string::npos);
    CHECK(r.error.find("HTTP 400") != std::string::npos);
    CHECK(server.requests().at(0).header("authorization") == auth);

    LoadedNotifier refused(TETHER_PLUGIN_FILE);
    std::string dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/hooks/" + token + "?" + query;
    REQUIRE(refused.create({{"url", dead}, {"secret", k_secret}}) == "");
    SendResult r2 = refused.send(TestMessage{});
    CHECK(r2.status == NOTIFIER_RETRY);

    for (const std::string& text : {r.error, r2.error, n.host_output(), refused.host_output()}) {
        INFO(text);
        CHECK(text.find(token) == std::string::npos);
        CHECK(text.find("QUERY-SECRET") == std::string::npos);
        CHECK(text.find("AUTH-SECRET") == std::string::npos);
        CHECK(text.find(k_secret) == std::string::npos);
    }
}

TEST_CASE("bad options are refused by name, without echoing the URL") {
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    CHECK(n.create({}) == "bad options: url is required");
    std::string e = n.create({{"url", "ftp://files.example.com/T0KEN"}});
    CHECK(e.find("url: the scheme must be http or https") != std::string::npos);
    CHECK(e.find("T0KEN") == std::string::npos);
    CHECK(n.create({{"url", "not a url T0KEN"}}).find("T0KEN") == std::string::npos);
    CHECK(n.create({{"url", "https://example.com/h"}, {"sekret", "x"}}).find("unknown option sekret") != std::string::npos);
    CHECK(n.create({{"url", "https://example.com/h"}, {"header.X-A", "a\r\nInjected: 1"}}).find("line break") != std::string::npos);
    CHECK(n.create({{"url", "https://example.com/h"}, {"header.X-Tether-Signature", "x"}}).find("sets this header itself") !=
          std::string::npos);
    CHECK(n.create({{"url", "https://example.com/h"}, {"header.Bad Name", "x"}}).find("not a valid header name") != std::string::npos);
    CHECK(n.create({{"url", "https://example.com/h"}, {"timeout_ms", "0"}}).find("timeout_ms") != std::string::npos);
    CHECK(n.create({{"url", "https://example.com/h"}, {"tls_verify", "maybe"}}).find("tls_verify") != std::string::npos);
    std::string short_secret = n.create({{"url", "https://example.com/h"}, {"secret", "abc123"}});
    CHECK(short_secret.find("secret: too short") != std::string::npos);
    CHECK(short_secret.find("abc123") == std::string::npos);
}

TEST_CASE("turning TLS verification off is a warning and a host event") {
    LoadedNotifier n(TETHER_PLUGIN_FILE);
    REQUIRE(n.create({{"url", "https://example.com/h"}}) == "");
    CHECK(n.event_codes().empty());
    REQUIRE(n.create({{"url", "https://example.com/h"}, {"tls_verify", "false"}}) == "");
    CHECK(n.event_codes() == std::vector<std::string>{"tls_verify_off"});
    CHECK(n.host_output().find("log 2: TLS certificate verification is OFF") != std::string::npos);
}

TEST_CASE("TLS: certificates are verified by default, ca_file trusts a private CA, tls_verify false trusts anything") {
    TestCertificate cert = TestCertificate::self_signed();
    HttpTestServer server(nullptr, &cert);
    REQUIRE(server.url("/h").rfind("https://", 0) == 0);

    LoadedNotifier strict(TETHER_PLUGIN_FILE);
    REQUIRE(strict.create(options_for(server)) == "");
    SendResult r = strict.send(TestMessage{});
    CHECK(r.status == NOTIFIER_RETRY);
    CHECK(r.error.find("certificate") != std::string::npos);
    CHECK(server.requests().empty());

    TempDir dir;
    write_file(dir.file("ca.pem"), cert.cert_pem);
    LoadedNotifier trusting(TETHER_PLUGIN_FILE);
    REQUIRE(trusting.create(options_for(server, {{"ca_file", dir.file("ca.pem")}})) == "");
    SendResult ok = trusting.send(TestMessage{});
    CHECK_MESSAGE(ok.status == NOTIFIER_OK, ok.error);
    REQUIRE(server.requests().size() == 1);
    CHECK(signature_valid(server.requests()[0], k_secret));

    LoadedNotifier careless(TETHER_PLUGIN_FILE);
    REQUIRE(careless.create(options_for(server, {{"tls_verify", "false"}})) == "");
    CHECK(careless.send(TestMessage{}).status == NOTIFIER_OK);
    CHECK(server.requests().size() == 2);
}
