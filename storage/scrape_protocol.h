#pragma once

// Content negotiation for scrapes, as Prometheus 3.x does it: the Accept
// header built from a job's scrape_protocols, and the parser picked from the
// response's Content-Type (or the job's fallback_scrape_protocol).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"

namespace vigil::storage {

// What a scrape body is read as.
enum class BodyFormat { kPrometheusText, kOpenMetrics, kProtobuf };

// The media type (with parameters) a scrape protocol asks for:
// "PrometheusProto", "OpenMetricsText1.0.0", "OpenMetricsText0.0.1",
// "PrometheusText1.0.0" or "PrometheusText0.0.4"; nullopt for another name.
std::optional<std::string_view> protocol_header(std::string_view protocol);

// The Accept header: each protocol in order with weights falling from
// q=0.6 (one more than the number of known protocols, over ten), then */*
// below the last. The 1.0.0 text formats carry `escaping=<escaping>`
// (metric_name_escaping_scheme: "allow-utf-8", "underscores", ...).
std::string accept_header(const std::vector<std::string>& protocols, std::string_view escaping);

// The format of a body with this Content-Type. A missing, unreadable or
// unknown media type falls back to `fallback_protocol` (a protocol name; a
// note saying so goes to *note), or is an error naming the type when there
// is none.
Result<BodyFormat> body_format(std::string_view content_type, std::string_view fallback_protocol,
                               std::string* note = nullptr);

}  // namespace vigil::storage
