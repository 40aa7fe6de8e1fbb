#pragma once

// A decoded configuration value: what alertmanager.yml said once it has been
// checked against its schema (routing/config_schema.h), with upstream's
// defaults filled in. Receivers' integration settings and the global section
// are kept in this form: one generic, position-carrying tree instead of a
// struct per integration. Notifiers read it with the typed accessors, e.g.
// `cfg.str("channel")`, `cfg.flag("send_resolved")`, `cfg.find("http_config")`.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/duration.h"

namespace vigil::config {

class ConfigValue {
 public:
  enum class Kind : uint8_t { Null, Bool, Int, Float, String, List, Map };

  ConfigValue() = default;
  static ConfigValue boolean(bool b);
  static ConfigValue integer(int64_t i);
  static ConfigValue number(double d);
  static ConfigValue string(std::string s);
  static ConfigValue list();
  static ConfigValue map();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_map() const { return kind_ == Kind::Map; }
  bool is_list() const { return kind_ == Kind::List; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }  // durations are Millis
  double as_float() const { return kind_ == Kind::Int ? static_cast<double>(i_) : d_; }
  const std::string& as_string() const { return s_; }

  // Lists.
  const std::vector<ConfigValue>& items() const { return items_; }
  std::vector<ConfigValue>& items() { return items_; }

  // Maps keep their keys in file order; schema defaults come after.
  const std::vector<std::pair<std::string, ConfigValue>>& entries() const { return entries_; }
  const ConfigValue* find(std::string_view key) const;
  ConfigValue* find(std::string_view key);
  void set(std::string key, ConfigValue v);  // replaces or appends
  void erase(std::string_view key);

  // On maps: the entry's value, or ""/false/0 when absent or null.
  std::string_view str(std::string_view key) const;
  bool flag(std::string_view key) const;
  int64_t num(std::string_view key) const;
  // Present, not null, and not the empty string.
  bool has(std::string_view key) const;
  // Written and not null (upstream's pointer fields: even "" counts).
  bool present(std::string_view key) const;
  // How many of `keys` are has().
  int count_set(std::initializer_list<std::string_view> keys) const;

  // Where the value was written (1-based); line 0 for defaults and values
  // inherited from `global`.
  int line = 0;
  int column = 0;
  // A credential: printed as <secret> in any dump.
  bool secret = false;

 private:
  Kind kind_ = Kind::Null;
  bool b_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
  std::vector<ConfigValue> items_;
  std::vector<std::pair<std::string, ConfigValue>> entries_;
};

}  // namespace vigil::config
