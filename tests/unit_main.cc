// The one unit-test binary: every daemon/*_test.cc links into it (ninja style).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
