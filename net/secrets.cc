#include "net/secrets.h"

#include <algorithm>

#include "model/file.h"

namespace vigil::net {

std::string trim_space(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(kSpace);
  return std::string(s.substr(b, e - b + 1));
}

namespace {

bool is_credential_file_key(std::string_view key) {
  return key.ends_with("_file") && key != "url_file" && key != "ca_file" && key != "cert_file" &&
         key != "chat_id_file";
}

}  // namespace

Result<std::string> read_credential(const config::ConfigValue& settings, std::string_view key,
                                    std::string_view file_key) {
  if (settings.has(key)) return std::string(settings.str(key));
  if (file_key.empty() || !settings.has(file_key)) return std::string();
  std::string path(settings.str(file_key));
  auto content = read_file(path, 1 << 20);
  if (!content) return fail(content.error().message);
  return trim_space(*content);
}

void Redactor::add(std::string_view secret) {
  if (secret.size() < kMinLength) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Redactor::add_all(const Redactor& other) {
  for (const auto& s : other.secrets_) add(s);
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  for (const auto& s : secrets_) {
    size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), "<secret>");
      pos += 8;
    }
  }
  return out;
}

void collect_secrets(const config::ConfigValue& v, Redactor& out) {
  using Kind = config::ConfigValue::Kind;
  if (v.kind() == Kind::String && v.secret) {
    const std::string& s = v.as_string();
    out.add(s);
    // A secret URL's path is the secret part of it (Slack's and Discord's
    // webhook URLs); receivers and proxies echo paths on their own.
    if (size_t scheme = s.find("://"); scheme != std::string::npos) {
      size_t path = s.find('/', scheme + 3);
      if (path != std::string::npos && s.size() - path > 1) out.add(s.substr(path));
    }
  }
  for (const auto& item : v.items()) collect_secrets(item, out);
  for (const auto& [key, value] : v.entries()) {
    if (value.kind() == Kind::String && is_credential_file_key(key) && !value.as_string().empty()) {
      if (auto content = read_file(value.as_string(), 1 << 20)) {
        out.add(trim_space(*content));
        out.add(*content);
      }
    }
    collect_secrets(value, out);
  }
}

}  // namespace vigil::net
