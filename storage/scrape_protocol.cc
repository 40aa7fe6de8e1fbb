#include "storage/scrape_protocol.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace vigil::storage {

namespace {

struct Protocol {
  std::string_view name;
  std::string_view header;
  bool escaping;  // takes the escaping parameter
};

constexpr Protocol kProtocols[] = {
    {"PrometheusProto", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
     false},
    {"PrometheusText0.0.4", "text/plain;version=0.0.4", false},
    {"PrometheusText1.0.0", "text/plain;version=1.0.0", true},
    {"OpenMetricsText0.0.1", "application/openmetrics-text;version=0.0.1", false},
    {"OpenMetricsText1.0.0", "application/openmetrics-text;version=1.0.0", true},
};

const Protocol* find_protocol(std::string_view name) {
  auto it = std::find_if(std::begin(kProtocols), std::end(kProtocols), [&](const Protocol& p) { return p.name == name; });
  return it == std::end(kProtocols) ? nullptr : it;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return c > 32 && c < 127 && std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

// The media type of a Content-Type value, lower-cased; nullopt when it is
// not `type/subtype` followed by parameters.
std::optional<std::string> media_type(std::string_view ct) {
  std::string_view type = trim(ct.substr(0, ct.find(';')));
  const size_t slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < type.size(); ++i) {
    if (i != slash && !is_token_char(type[i])) return std::nullopt;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(type[i])));
  }
  // Each parameter is name=value (the value a token or a quoted string).
  std::string_view rest = ct.substr(std::min(ct.size(), ct.find(';')));
  while (!rest.empty()) {
    rest.remove_prefix(1);  // ';'
    std::string_view param = trim(rest.substr(0, rest.find(';')));
    rest = rest.substr(std::min(rest.size(), rest.find(';')));
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    if (param.substr(eq + 1).empty()) return std::nullopt;
  }
  return out;
}

std::optional<BodyFormat> format_of(std::string_view media) {
  if (media == "text/plain") return BodyFormat::kPrometheusText;
  if (media == "application/openmetrics-text") return BodyFormat::kOpenMetrics;
  if (media == "application/vnd.google.protobuf") return BodyFormat::kProtobuf;
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> protocol_header(std::string_view protocol) {
  const Protocol* p = find_protocol(protocol);
  if (!p) return std::nullopt;
  return p->header;
}

std::string accept_header(const std::vector<std::string>& protocols, std::string_view escaping) {
  std::string out;
  int weight = static_cast<int>(std::size(kProtocols)) + 1;
  for (const std::string& name : protocols) {
    const Protocol* p = find_protocol(name);
    if (!p || weight <= 1) continue;
    out += p->header;
    if (p->escaping) out += fmt::format(";escaping={}", escaping);
    out += fmt::format(";q=0.{},", weight--);
  }
  return out + fmt::format("*/*;q=0.{}", weight);
}

Result<BodyFormat> body_format(std::string_view content_type, std::string_view fallback_protocol, std::string* note) {
  const Protocol* fallback = fallback_protocol.empty() ? nullptr : find_protocol(fallback_protocol);
  std::optional<BodyFormat> fallback_format;
  if (fallback) fallback_format = format_of(*media_type(fallback->header));
  auto use_fallback = [&](std::string why) -> Result<BodyFormat> {
    if (!fallback_format)
      return fail(fmt::format("{} and no fallback_scrape_protocol specified for target", why));
    if (note) *note = fmt::format("{}, using fallback_scrape_protocol \"{}\"", why, fallback_protocol);
    return *fallback_format;
  };
  if (trim(content_type).empty()) return use_fallback("non-compliant scrape target sending blank Content-Type");
  auto media = media_type(content_type);
  if (!media) return use_fallback(fmt::format("cannot parse Content-Type \"{}\"", content_type));
  if (auto f = format_of(*media)) return *f;
  return use_fallback(fmt::format("received unsupported Content-Type \"{}\"", content_type));
}

}  // namespace vigil::storage
