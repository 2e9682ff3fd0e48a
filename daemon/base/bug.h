// Tier-1 errors: a broken invariant aborts with file, line and function, in release too.
#pragma once

#include <cstdio>
#include <cstdlib>

#define TETHER_BUG(msg)                                                                  \
    do {                                                                                 \
        std::fprintf(stderr, "tether: BUG at %s:%d in %s: %s\n", __FILE__, __LINE__,     \
                     __func__, (msg));                                                   \
        std::abort();                                                                    \
    } while (0)

#define TETHER_ASSERT(cond)                                                              \
    do {                                                                                 \
        if (!(cond)) TETHER_BUG("assertion failed: " #cond);                             \
    } while (0)
