#include "config/fleet_config.h"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include "config/config.h"
#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {
struct Loaded {
    std::vector<ConfigError> errors;
    Config config;
    std::string all() const {
        std::string s;
        for (const auto& e : errors) s += e.to_string() + "\n";
        return s;
    }
};
Loaded load(const TempDir& dir, const std::string& text) {
    std::string path = dir.file("config.yaml");
    tether::test::write_file(path, text);
    Loaded l;
    l.errors = check_config(path, l.config);
    return l;
}
}  // namespace

TEST_CASE("no fleet section: no fleet") {
    TempDir dir;
    auto l = load(dir, "daemon: {flush_ms: 5}\n");
    CHECK(l.errors.empty());
    REQUIRE(l.config.fleet);
    CHECK(!l.config.fleet->enabled());
}

TEST_CASE("a fleet section with every option") {
    TempDir dir;
    std::string creds = dir.file("me.creds");
    tether::test::write_file(creds, "-----BEGIN NATS USER JWT-----\n");
    ::chmod(creds.c_str(), 0600);
    ::setenv("TETHER_TEST_NATS_TOKEN", "s3cret-token", 1);
    auto l = load(dir, "fleet:\n  url: [nats://10.0.0.1:4222, tls://10.0.0.2:4222]\n  host: dev-box_2\n"
                       "  credentials: me.creds\n  token_env: TETHER_TEST_NATS_TOKEN\n  hosts: [laptop, dev-box_2]\n"
                       "  notify: true\n  output: false\n  max_age_days: 7\n  notify_window_s: 60\n");
    INFO(l.all());
    REQUIRE(l.errors.empty());
    const FleetConfig& f = *l.config.fleet;
    CHECK(f.enabled());
    CHECK(f.urls.size() == 2);
    CHECK(f.host == "dev-box_2");
    CHECK(f.credentials == creds);
    CHECK(f.token == "s3cret-token");
    CHECK(f.secret_source == "$TETHER_TEST_NATS_TOKEN");
    CHECK(f.notify);
    CHECK(f.max_age_s == 7 * 86400);
    CHECK(f.notify_window_s == 60);
    CHECK(f.knows_host("laptop"));
    CHECK(!f.knows_host("mallory"));
}

TEST_CASE("fleet errors are located and name what is wrong") {
    TempDir dir;
    std::string open_creds = dir.file("open.creds");
    tether::test::write_file(open_creds, "x");
    ::chmod(open_creds.c_str(), 0644);
    auto l = load(dir, "fleet:\n"
                       "  url: http://example.net\n"         // line 2
                       "  host: \"my host\"\n"                // line 3
                       "  credentials: open.creds\n"          // line 4
                       "  token_env: TETHER_TEST_UNSET_VAR\n" // line 5
                       "  hosts: [laptop]\n"                  // line 6
                       "  notify: maybe\n"                    // line 7
                       "  colour: blue\n");                   // line 8
    std::string all = l.all();
    INFO(all);
    CHECK(all.find("config.yaml:2:8: fleet url \"http://example.net\" is not a NATS url") != std::string::npos);
    CHECK(all.find("config.yaml:3:9: fleet host \"my host\" is not a valid name") != std::string::npos);
    CHECK(all.find(":4:16: fleet credentials file " + open_creds + " has mode 0644") != std::string::npos);
    CHECK(all.find(":5:14: environment variable TETHER_TEST_UNSET_VAR (fleet token_env) is not set") != std::string::npos);
    CHECK(all.find(":7:11: fleet notify must be true or false") != std::string::npos);
    CHECK(all.find(":8:3: unknown key \"colour\" in fleet") != std::string::npos);
    CHECK(!l.config.fleet->enabled());
}

TEST_CASE("a fleet needs a url and a host, and credentials never in the url") {
    TempDir dir;
    auto l = load(dir, "fleet: {notify: true}\n");
    std::string all = l.all();
    CHECK(all.find("fleet has no url") != std::string::npos);
    CHECK(all.find("fleet has no host") != std::string::npos);
    l = load(dir, "fleet: {url: \"nats://me:pw@h:4222\", host: a, hosts: [b]}\n");
    all = l.all();
    CHECK(all.find("fleet url carries credentials") != std::string::npos);
    CHECK(all.find("pw") == std::string::npos);
    CHECK(all.find("fleet hosts does not name this host, a") != std::string::npos);
}
