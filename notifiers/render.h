#pragma once

// Helpers the integrations share: rendering configured templates against a
// notification (the first error wins, as upstream's TmplText), templated
// JSON trees (pagerduty details, webhook payload), the template data as
// JSON (the webhook body), truncation and hashing.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/value.h"
#include "model/error.h"
#include "templates/alertmanager.h"
#include "templates/notification_data.h"

namespace vigil::notifiers {

using Json = nlohmann::ordered_json;

class Renderer {
 public:
  Renderer(const templates::NotificationTemplates& t, const templates::Value& data) : t_(t), data_(data) {}
  // Renders `tmpl`; after a first error, everything renders as "" and the
  // error is kept.
  std::string text(std::string_view tmpl);
  std::string html(std::string_view tmpl);
  // Renders every string (and map key) of a tree. A rendered string that
  // reads as a JSON number, boolean, list or object becomes that value, as
  // upstream turns rendered YAML into structure.
  Json tree(const config::ConfigValue& v);
  const std::optional<Error>& error() const { return error_; }

 private:
  const templates::NotificationTemplates& t_;
  const templates::Value& data_;
  std::optional<Error> error_;
};

// Go's time.Time JSON form (RFC 3339 with nanoseconds, trailing zeros cut).
std::string json_time(const templates::GoTime& t);
// template.Data as Alertmanager marshals it.
Json data_json(const templates::NotificationData& d);

// At most n code points; a cut string ends with "…".
std::string truncate_runes(std::string_view s, size_t n, bool* truncated = nullptr);
// At most n bytes without splitting a character; a cut string ends with "…".
std::string truncate_bytes(std::string_view s, size_t n, bool* truncated = nullptr);

std::string sha256_hex(std::string_view s);

// Sets o[key] unless `value` is empty: a Go field with `omitempty`.
inline void put_if(Json& o, const char* key, std::string value) {
  if (!value.empty()) o[key] = std::move(value);
}

// `j` as Go's json.Encoder writes it (what upstream's integrations send):
// compact, <, > and & as \u003c \u003e \u0026, U+2028/U+2029 escaped,
// invalid UTF-8 replaced by U+FFFD, and a trailing newline. Objects keep
// the order they were built in (Go's struct field order); use a sorted
// Json for what Go encodes from a map.
std::string go_json(const Json& j);
std::string go_json(const nlohmann::json& j);
// The same without the newline: a value to put inside a larger JSON text.
std::string go_json_value(const Json& j);
// JSON text with those characters escaped, the rest kept byte for byte (Go
// re-encoding raw JSON).
std::string go_escape_json(std::string_view json_text);

}  // namespace vigil::notifiers
