// One fuzz target per parser that takes outside input. A target is written once as
//   TETHER_FUZZ_TARGET(name) { ...data, size... return 0; }
// and built two ways: with libFuzzer (cmake -DTETHER_FUZZ=ON, clang) as the program
// fuzz_<name>, whose entry point is LLVMFuzzerTestOneInput; and, in the normal build,
// into the one fuzz_regress program (g++, no libFuzzer) that runs every file of
// fuzz/corpus/<name>/ through it as a regression test (regress_main.cc).
// Return 0, or -1 for an input the target refuses to run (never added to the corpus).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tether::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

struct Registration {
    Registration(const char* name, TargetFn fn);
};

}  // namespace tether::fuzz

#ifdef TETHER_FUZZ_REGRESS
#define TETHER_FUZZ_TARGET(name)                                                   \
    static int tether_fuzz_##name(const uint8_t* data, size_t size);              \
    static const ::tether::fuzz::Registration tether_fuzz_reg_##name(#name, tether_fuzz_##name); \
    static int tether_fuzz_##name(const uint8_t* data, size_t size)
#else
#define TETHER_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#endif
