#pragma once

// Credentials as the configuration gives them (inline or in a `*_file`), and
// the redaction that keeps them out of every log line and error message.

#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"
#include "model/error.h"

namespace vigil::net {

// `s` without ASCII white space at either end (how credential files are read).
std::string trim_space(std::string_view s);

// The value of `key`, or else the trimmed content of the file named by
// `file_key`; "" when neither is set. Files are read on every call so that a
// rotated credential is picked up without a reload, as upstream does. The
// error names the file, never its content.
Result<std::string> read_credential(const config::ConfigValue& settings, std::string_view key,
                                    std::string_view file_key);

// Replaces known secrets by "<secret>" in text that may be shown to someone:
// error messages, response bodies echoed into errors, log lines.
class Redactor {
 public:
  // Secrets shorter than kMinLength are not tracked: redacting every "a"
  // would make messages unreadable, and such values protect nothing.
  static constexpr size_t kMinLength = 4;

  void add(std::string_view secret);
  void add_all(const Redactor& other);
  std::string redact(std::string_view text) const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;
};

// Every secret-marked string in a settings tree (tokens, passwords, secret
// URLs), plus the content of the credential files it names.
void collect_secrets(const config::ConfigValue& settings, Redactor& out);

}  // namespace vigil::net
