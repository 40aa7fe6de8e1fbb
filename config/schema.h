#pragma once

// The shape of alertmanager.yml as data: each section is an ObjectSpec listing
// its fields, their types and upstream's defaults. SchemaDecoder turns the
// YAML tree into ConfigValues with the same strictness as Alertmanager's
// loader (yaml.v2 UnmarshalStrict): unknown fields, repeated keys and values
// of the wrong type are errors, each with the line and column it was written
// at. Semantic checks (which fields go together, required values) live with
// the sections that need them (routing/config.cc, routing/receivers.cc).

#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"
#include "model/error.h"
#include "model/yaml.h"

namespace vigil::config {

enum class FieldType : uint8_t {
  kString,
  kSecret,         // a string never shown in dumps
  kBool,           // YAML 1.1 words too (yes/no/on/off), as Go's yaml.v2 reads them
  kInt,
  kUInt,
  kFloat,
  kDuration,       // Prometheus duration ("5m", "1d"), stored as Millis
  kGoDuration,     // Go duration ("1m30s", "1.5s"), stored as Millis
  kUrl,            // http or https URL with a host
  kSecretUrl,      // kUrl that is a secret; "<secret>" is accepted as written
  kTemplateUrl,    // secret URL checked as kUrl unless it holds a {{ template }}
  kAnyUrl,         // any URL (proxy_url)
  kHostPort,       // "host:port" (SMTP smarthost)
  kTlsVersion,     // TLS10 ... TLS13
  kStringList,
  kSecretList,
  kStringMap,      // map of string to string
  kAny,            // free-form YAML kept as is (webhook payload, Jira fields)
  kObject,
  kObjectList,
  kObjectMap,      // map of name to object (http_headers)
  kSecretListMap,  // map of name to list of secrets (proxy_connect_header)
};

struct ObjectSpec;

struct FieldSpec {
  std::string_view name;
  FieldType type = FieldType::kString;
  // The default as YAML text (nullptr: none). For kObject, "" makes the
  // object present with its own defaults when the file leaves it out.
  const char* def = nullptr;
  const ObjectSpec* object = nullptr;  // kObject, kObjectList, kObjectMap
};

struct ObjectSpec {
  // How Go's yaml names the type in "field x not found in type T".
  std::string_view type_name;
  std::vector<FieldSpec> fields;
  // When set, a plain string stands for an object with only this field
  // (Jira's `summary: "..."` or `summary: {template: ...}`).
  std::string_view scalar_field = {};

  const FieldSpec* field(std::string_view name) const;
};

class SchemaDecoder {
 public:
  SchemaDecoder(const YamlDocument& doc, std::vector<Error>& errors);

  // Decodes a mapping (or null: defaults only) into an object of `spec`.
  ConfigValue object(const YamlNode& n, const ObjectSpec& spec);
  // Decodes the value of field `f`; errors are prefixed with the field name.
  ConfigValue value(const YamlNode& n, const FieldSpec& f);

  // An object holding only spec's defaults.
  static ConfigValue defaults(const ObjectSpec& spec);

 private:
  struct Entry {
    std::string_view key;
    const YamlNode* key_node;
    const YamlNode* value;
  };
  std::vector<Entry> entries(const YamlNode& map, bool is_struct, std::string_view type);
  void collect(const YamlNode& map, bool is_struct, std::string_view type,
               std::vector<Entry>& out, std::vector<std::string_view>& seen, int depth);
  void error(const YamlNode& at, std::string msg);
  bool over_budget(const YamlNode& at);
  ConfigValue scalar(const YamlNode& n, const FieldSpec& f);
  ConfigValue any(const YamlNode& n);
  ConfigValue list(const YamlNode& n, const FieldSpec& f, FieldType item);
  ConfigValue string_map(const YamlNode& n, const FieldSpec& f, FieldType item);

  const YamlDocument& doc_;
  std::vector<Error>& errors_;
  size_t budget_;
  bool exhausted_ = false;
};

// URL checks as Alertmanager's: Go's url.Parse, then (for kUrl) an http or
// https scheme and a host. The error is upstream's wording.
Result<void> check_url(std::string_view s, bool require_http);

// Go's net.SplitHostPort plus Alertmanager's non-empty port rule.
Result<void> check_host_port(std::string_view s);

}  // namespace vigil::config
