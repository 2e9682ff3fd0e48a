/* tether-hook: the command an agent's hooks run, once per hook event. It forwards the
 * hook's JSON (stdin) to tetherd with the session it belongs to, and prints the
 * daemon's answer (a permission decision) on stdout.
 *
 * It fails open, always: no daemon, no socket, bad input, a timeout, anything at all
 * means exit 0 with nothing on stdout, so the agent carries on exactly as it would
 * without tether. It never exits 2 (which would block the agent).
 *
 * It is deliberately tiny and static: no JSON parser (the payload is passed through as
 * raw bytes; the daemon answers with a raw Bytes frame to print), no allocation beyond
 * the input buffer, nothing loaded at start. Wire format: docs/PROTOCOL.md.
 *
 * Usage: tether-hook [--agent NAME] [--wait SECONDS] [JSON]
 * The payload is read from stdin, or taken from a JSON argument (Codex's `notify`
 * program gets its payload as the last argument, with stdin closed).
 * Environment: TETHER_SESSION (set by tether run), TETHER_SOCKET, XDG_RUNTIME_DIR,
 * TETHER_HOOK_WAIT (default wait for a decision, seconds). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { MAX_INPUT = 1 << 20, FRAME_JSON = 1, FRAME_BYTES = 2, ACK_MS = 1000, STDIN_MS = 2000 };

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Every failure ends here: the agent must never notice tether. */
static void fail_open(void) { _exit(0); }

/* Names go into JSON unescaped, so only plain ones are accepted. */
static int plain(const char *s) {
    if (!s || !*s || strlen(s) > 64) return 0;
    for (; *s; ++s)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static int wait_fd(int fd, short events, long deadline) {
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return 0;
    }
}

static void write_all(int fd, const char *p, size_t n, long deadline) {
    while (n > 0) {
        if (!wait_fd(fd, POLLOUT, deadline)) fail_open();
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (w <= 0) fail_open();
        p += w;
        n -= (size_t)w;
    }
}

static size_t put_frame(char *out, int type, const char *body, size_t n) {
    out[0] = (char)(n >> 24);
    out[1] = (char)(n >> 16);
    out[2] = (char)(n >> 8);
    out[3] = (char)n;
    out[4] = (char)type;
    memcpy(out + 5, body, n);
    return n + 5;
}

static void read_exact(int fd, char *p, size_t n, long *deadline) {
    while (n > 0) {
        if (!wait_fd(fd, POLLIN, *deadline)) fail_open();
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) fail_open();
        p += r;
        n -= (size_t)r;
    }
}

/* The hook's JSON (argv for Codex's notify, else stdin): bounded in size and in time. */
static size_t read_payload(const char *arg_payload, char *input) {
    size_t len = 0;
    long stdin_deadline = now_ms() + STDIN_MS;
    if (arg_payload) {
        len = strlen(arg_payload);
        if (len > MAX_INPUT) fail_open();
        memcpy(input, arg_payload, len);
        return len;
    }
    for (;;) {
        if (!wait_fd(0, POLLIN, stdin_deadline)) fail_open();
        ssize_t r = read(0, input + len, MAX_INPUT + 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail_open();
        if (r == 0) return len;
        len += (size_t)r;
        if (len > MAX_INPUT) fail_open();
    }
}

/* $TETHER_SOCKET, else the daemon's default place. */
static int connect_daemon(void) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    const char *sock = getenv("TETHER_SOCKET");
    int n;
    if (sock && *sock) n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
    else if (getenv("XDG_RUNTIME_DIR") && *getenv("XDG_RUNTIME_DIR"))
        n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/tether/tetherd.sock", getenv("XDG_RUNTIME_DIR"));
    else n = snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/tether-%u/tetherd.sock", (unsigned)getuid());
    if (n <= 0 || (size_t)n >= sizeof addr.sun_path) fail_open();
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) fail_open();
    return fd;
}

/* Frames back: the hello, maybe a "waiting" notice (which extends the deadline to the
 * decision wait), then the answer as raw bytes to print. buf holds MAX_INPUT bytes. */
static int relay_answer(int fd, char *buf, long deadline, long wait_s) {
    int json_frames = 0;
    long start = now_ms();
    for (;;) {
        char head[5];
        read_exact(fd, head, 5, &deadline);
        uint32_t body = ((uint32_t)(unsigned char)head[0] << 24) | ((uint32_t)(unsigned char)head[1] << 16) |
                        ((uint32_t)(unsigned char)head[2] << 8) | (uint32_t)(unsigned char)head[3];
        if (body > MAX_INPUT) fail_open();
        read_exact(fd, buf, body, &deadline);
        if (head[4] == FRAME_BYTES) {
            /* The answer: exactly what the agent should read, possibly nothing. */
            size_t done = 0;
            while (done < body) {
                ssize_t w = write(1, buf + done, body - done);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) fail_open();
                done += (size_t)w;
            }
            return 0;
        }
        if (head[4] != FRAME_JSON) fail_open();
        if (++json_frames >= 2) deadline = start + wait_s * 1000 + ACK_MS;
    }
}

int main(int argc, char **argv) {
    const char *agent = "claude";
    const char *arg_payload = NULL;
    long wait_s = 120;
    const char *env_wait = getenv("TETHER_HOOK_WAIT");
    if (env_wait && *env_wait) wait_s = strtol(env_wait, NULL, 10);
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--agent") && i + 1 < argc) agent = argv[++i];
        else if (!strcmp(argv[i], "--wait") && i + 1 < argc) wait_s = strtol(argv[++i], NULL, 10);
        else if (argv[i][0] == '{') arg_payload = argv[i];
    }
    if (wait_s < 0 || wait_s > 86400) wait_s = 120;
    if (!plain(agent)) fail_open();

    static char input[MAX_INPUT + 1];
    size_t len = read_payload(arg_payload, input);
    int fd = connect_daemon();

    /* hello + request + payload, in one write. */
    static char out[MAX_INPUT + 1024];
    char json[512];
    size_t o = 0;
    const char *hello = "{\"hello\":\"tether\",\"protocol\":1,\"version\":\"hook\",\"who\":\"tether-hook\"}";
    o += put_frame(out + o, FRAME_JSON, hello, strlen(hello));
    const char *session = getenv("TETHER_SESSION");
    int j = snprintf(json, sizeof json, "{\"id\":1,\"cmd\":\"hook\",\"agent\":\"%s\",\"session\":\"%s\",\"wait_ms\":%ld}",
                     agent, plain(session) ? session : "", wait_s * 1000);
    if (j <= 0 || (size_t)j >= sizeof json) fail_open();
    o += put_frame(out + o, FRAME_JSON, json, (size_t)j);
    o += put_frame(out + o, FRAME_BYTES, input, len);
    long deadline = now_ms() + ACK_MS;
    write_all(fd, out, o, deadline);
    return relay_answer(fd, out, deadline, wait_s);
}
