#pragma once

// The upstream corpora in ../shared, read in place. A test case reading them
// starts with VIGIL_NEEDS_SHARED(): without the folder it says so and ends,
// and ctest counts it as skipped (SKIP_REGULAR_EXPRESSION in
// tests/CMakeLists.txt), so a clone without ../shared gets skips with a
// reason, not failures.
#include <cstdio>
#include <filesystem>

#define VIGIL_NEEDS_SHARED()                                                                          \
  do {                                                                                                \
    if (!std::filesystem::is_directory(VIGIL_SHARED_DIR "/conformance")) {                            \
      std::printf("skipped: %s/conformance is absent (the upstream corpora this test reads)\n",      \
                  VIGIL_SHARED_DIR);                                                                  \
      return;                                                                                         \
    }                                                                                                 \
  } while (0)
