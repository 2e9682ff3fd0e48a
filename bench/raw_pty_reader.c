/* raw_pty_reader: the raw PTY baseline of bench_session_output (perf-baselines §1 (a)).
 * forkpty at COLSxROWS, exec the command, read the master into a 64 KiB buffer until
 * EIO, reap the child. Prints "bytes=N reads=N status=N" so the caller can check that
 * every byte arrived. Nothing else: any work here would be charged to the baseline. */
#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: raw_pty_reader COLS ROWS COMMAND [ARG...]\n");
        return 2;
    }
    struct winsize ws = {0};
    ws.ws_col = (unsigned short)atoi(argv[1]);
    ws.ws_row = (unsigned short)atoi(argv[2]);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    if (pid < 0) {
        perror("raw_pty_reader: forkpty failed");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        perror("raw_pty_reader: exec failed");
        _exit(127);
    }
    static char buf[64 * 1024];
    long long bytes = 0, reads = 0;
    for (;;) {
        ssize_t n = read(master, buf, sizeof buf);
        if (n > 0) {
            bytes += n;
            reads++;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break; /* EIO: every writer of the slave has gone */
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(master);
    printf("bytes=%lld reads=%lld status=%d\n", bytes, reads, status);
    return 0;
}
