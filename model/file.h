#pragma once

#include <string>
#include <string_view>

#include "model/error.h"

namespace vigil {

// Files larger than this are refused rather than read into memory.
inline constexpr size_t kMaxReadFileSize = size_t{256} << 20;

// Reads a whole file. Errors are worded like Go's os.ReadFile:
// "open PATH: no such file or directory", "read PATH: is a directory".
Result<std::string> read_file(const std::string& path);

// Replaces `path` with `content` so that a crash leaves either the old or the
// new file, never a torn one: the content goes to a temporary file in the
// same directory, is fsynced, renamed over `path`, and the directory fsynced.
Result<void> write_file_atomic(const std::string& path, std::string_view content);

}  // namespace vigil
