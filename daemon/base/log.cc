// Timestamped log lines on stderr.
#include "base/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>

namespace tether {

namespace {
std::atomic<LogSink> g_sink{nullptr};
}

void set_log_sink(LogSink sink) { g_sink.store(sink); }

void log_line(LogLevel level, std::string_view message) {
    if (LogSink sink = g_sink.load()) return sink(level, message);
    struct timeval tv {};
    gettimeofday(&tv, nullptr);
    struct tm tm {};
    localtime_r(&tv.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    const char* tag = level == LogLevel::Info ? "info" : level == LogLevel::Warn ? "warn" : "error";
    std::string line = std::string(stamp) + "." + std::to_string(tv.tv_usec / 1000 + 1000).substr(1) +
                       " [" + std::to_string(getpid()) + "] " + tag + ": " + std::string(message) + "\n";
    // One write per line so concurrent writers never interleave within a line.
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

}  // namespace tether
