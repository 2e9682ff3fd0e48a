// flock-based single-daemon lock.
#include "base/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>

namespace tether {

Result<LockFile> LockFile::acquire(const std::string& path) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno_error("lock: open " + path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char buf[32] = {};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        if (err == EWOULDBLOCK) {
            std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
            while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
            return Error{"another tetherd (pid " + pid + ") is already using this state directory (" + path + ")"};
        }
        return errno_error("lock: flock " + path, err);
    }
    std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        int err = errno;
        close(fd);
        return errno_error("lock: write " + path, err);
    }
    return LockFile(fd);
}

LockFile::~LockFile() {
    if (m_fd >= 0) close(m_fd);  // releases the flock
}

}  // namespace tether
