#pragma once

// Facts about this build, filled in by the build system.
namespace vigil::build {
extern const char* const kVersion;  // semantic version, e.g. "0.1.0"
extern const char* const kCommit;   // short git commit, "-dirty" when the tree had changes
extern const char* const kDate;     // UTC build date, YYYY-MM-DD
}  // namespace vigil::build
