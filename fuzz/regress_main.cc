// fuzz_regress: runs every fuzz target's code over its corpus, without libFuzzer, as a
// ctest test of the normal build: `fuzz_regress <target> <file or directory>...`.
// A crash or a failed check aborts with the file's name printed first.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace tether::fuzz {

namespace {
std::map<std::string, TargetFn>& registry() {
    static std::map<std::string, TargetFn> targets;
    return targets;
}
}  // namespace

Registration::Registration(const char* name, TargetFn fn) { registry()[name] = fn; }

}  // namespace tether::fuzz

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    auto& targets = tether::fuzz::registry();
    if (argc < 3 || !targets.count(argv[1])) {
        std::fprintf(stderr, "usage: fuzz_regress TARGET FILE|DIR...\ntargets:");
        for (const auto& [name, fn] : targets) std::fprintf(stderr, " %s", name.c_str());
        std::fprintf(stderr, "\n");
        return 2;
    }
    tether::fuzz::TargetFn fn = targets[argv[1]];
    std::vector<fs::path> files;
    for (int i = 2; i < argc; ++i) {
        if (fs::is_directory(argv[i])) {
            for (const auto& e : fs::directory_iterator(argv[i]))
                if (e.is_regular_file()) files.push_back(e.path());
        } else {
            files.emplace_back(argv[i]);
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "fuzz_regress %s: no inputs\n", argv[1]);
        return 1;
    }
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string bytes = ss.str();
        std::fprintf(stderr, "%s\n", f.c_str());
        fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("fuzz_regress %s: %zu inputs ran clean\n", argv[1], files.size());
    return 0;
}
