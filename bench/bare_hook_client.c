/* bare_hook_client: the floor of bench_hook, "a static C client doing the same" as
 * tether-hook. It reads stdin, connects to $TETHER_SOCKET, writes the same three frames
 * (hello, {"cmd":"hook",...,"wait_ms":0}, the payload as Bytes) in one write, reads
 * frames until the Bytes answer and prints it. No timeouts, no polling, no checks
 * beyond what it needs to stay correct: any failure is exit 1, so the benchmark sees it.
 * Exit 0: an answer frame came (and was printed); exit 3: after its hello, the daemon
 * closed the connection at a frame boundary without one. That is how tetherd answers
 * "nothing" today: Connection::send_bytes sends no frame for an empty body.
 * Usage: bare_hook_client (environment: TETHER_SOCKET, TETHER_SESSION). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { MAX_INPUT = 1 << 20, FRAME_JSON = 1, FRAME_BYTES = 2 };

static char input[MAX_INPUT + 1];
static char out[MAX_INPUT + 1024];

static size_t put_frame(char *p, int type, const char *body, size_t n) {
    p[0] = (char)(n >> 24);
    p[1] = (char)(n >> 16);
    p[2] = (char)(n >> 8);
    p[3] = (char)n;
    p[4] = (char)type;
    memcpy(p + 5, body, n);
    return n + 5;
}

/* Returns 0 on a clean end of stream before the first byte, 1 when all n bytes came. */
static int read_exact(int fd, char *p, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, p + got, n - got);
        if (r == 0 && got == 0) return 0;
        if (r <= 0) _exit(1);
        got += (size_t)r;
    }
    return 1;
}

int main(void) {
    size_t len = 0;
    for (;;) {
        ssize_t r = read(0, input + len, sizeof input - len);
        if (r < 0) return 1;
        if (r == 0) break;
        len += (size_t)r;
        if (len > MAX_INPUT) return 1;
    }
    const char *sock = getenv("TETHER_SOCKET");
    const char *session = getenv("TETHER_SESSION");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!sock || !session || strlen(sock) >= sizeof addr.sun_path || strlen(session) > 64) return 1;
    strcpy(addr.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return 1;

    static const char hello[] = "{\"hello\":\"tether\",\"protocol\":1,\"version\":\"bare\",\"who\":\"bare_hook_client\"}";
    char json[256];
    int j = snprintf(json, sizeof json, "{\"id\":1,\"cmd\":\"hook\",\"agent\":\"claude\",\"session\":\"%s\",\"wait_ms\":0}",
                     session);
    size_t o = put_frame(out, FRAME_JSON, hello, sizeof hello - 1);
    o += put_frame(out + o, FRAME_JSON, json, (size_t)j);
    o += put_frame(out + o, FRAME_BYTES, input, len);
    for (size_t done = 0; done < o;) {
        ssize_t w = send(fd, out + done, o - done, MSG_NOSIGNAL);
        if (w <= 0) return 1;
        done += (size_t)w;
    }

    for (int frames = 0;; ++frames) {
        unsigned char head[5];
        if (!read_exact(fd, (char *)head, 5)) return frames > 0 ? 3 : 1;
        uint32_t body = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
        if (body > MAX_INPUT) return 1;
        if (body && !read_exact(fd, out, body)) return 1;
        if (head[4] == FRAME_BYTES) return fwrite(out, 1, body, stdout) == body ? 0 : 1;
        if (head[4] != FRAME_JSON) return 1;
    }
}
