// The daemon's diagnostic log: timestamped lines on stderr, which is the log file in the
// state directory once tetherd daemonizes. Never given secrets or terminal bytes.
#pragma once

#include <string_view>

namespace tether {

enum class LogLevel { Info, Warn, Error };

void log_line(LogLevel level, std::string_view message);
// Where lines go instead of stderr (tests and fuzzers); nullptr restores stderr.
using LogSink = void (*)(LogLevel level, std::string_view message);
void set_log_sink(LogSink sink);
inline void log_info(std::string_view m) { log_line(LogLevel::Info, m); }
inline void log_warn(std::string_view m) { log_line(LogLevel::Warn, m); }
inline void log_error(std::string_view m) { log_line(LogLevel::Error, m); }

}  // namespace tether
