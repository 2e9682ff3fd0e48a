// An exclusive flock on a file in the state directory, held for the daemon's lifetime,
// so that two daemons never share one event log. The file records the holder's pid.
#pragma once

#include <string>

#include "base/result.h"

namespace tether {

class LockFile {
public:
    static Result<LockFile> acquire(const std::string& path);
    LockFile(LockFile&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
    LockFile& operator=(LockFile&&) = delete;
    ~LockFile();

private:
    explicit LockFile(int fd) : m_fd(fd) {}
    int m_fd;
};

}  // namespace tether
