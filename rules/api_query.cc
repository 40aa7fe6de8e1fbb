#include "rules/api_query.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/go_format.h"
#include "model/names.h"
#include "model/timestamp.h"
#include "net/http_client.h"
#include "net/url.h"
#include "templates/escape.h"

namespace vigil::rules {
namespace {

using Json = nlohmann::json;
using LabelMap = std::map<std::string, std::string>;

std::string json_string(std::string_view s) { return templates::go_json_string(s); }

std::string json_object(const LabelMap& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ",";
    out += json_string(k) + ":" + json_string(v);
  }
  return out + "}";
}

// client_golang's model.Time: seconds with up to millisecond fractions.
std::string time_string(double seconds) {
  auto ms = static_cast<int64_t>(std::llround(seconds * 1000));
  return go_format_float(static_cast<double>(ms) / 1000, 'f', -1);
}

// The API's sample values are strings ("1", "NaN", "+Inf", "1e-07");
// promtool prints them back as Go's FormatFloat(v, 'f', -1).
double value_of(const Json& v) { return std::strtod(v.get<std::string>().c_str(), nullptr); }
std::string value_string(double v) { return go_format_float(v, 'f', -1); }

LabelMap labels_of(const Json& m) {
  LabelMap out;
  for (const auto& [k, v] : m.items()) out[k] = v.get<std::string>();
  return out;
}

// model.Metric's String(): name{a="1", b="2"}, or {} when empty.
std::string metric_string(const LabelMap& m) {
  auto name = m.find("__name__");
  std::string labels;
  for (const auto& [k, v] : m) {
    if (k == "__name__") continue;
    labels += (labels.empty() ? "" : ", ") + k + "=" + go_quote(v);
  }
  if (labels.empty()) return name != m.end() ? name->second : "{}";
  return (name != m.end() ? name->second : "") + "{" + labels + "}";
}

// model.LabelSet's String(): every label, the name included, in braces.
std::string label_set_string(const LabelMap& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ", ";
    out += k + "=" + go_quote(v);
  }
  return out + "}";
}

std::string pair_string(const Json& p) {
  return fmt::format("{} @[{}]", value_string(value_of(p.at(1))), time_string(p.at(0).get<double>()));
}
std::string pair_json(const Json& p) {
  return fmt::format("[{},{}]", time_string(p.at(0).get<double>()),
                     json_string(value_string(value_of(p.at(1)))));
}

// model.LabelSet's Before: fewer labels first, then by names, then values.
bool before(const LabelMap& a, const LabelMap& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first) return ia->first < ib->first;
  }
  for (ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->second != ib->second) return ia->second < ib->second;
  }
  return false;
}

// promtool's result printing for a query's `data`.
Result<std::string> render(const Json& data, bool json) {
  std::string type = data.at("resultType").get<std::string>();
  const Json& result = data.at("result");
  std::string out;
  if (type == "scalar" || type == "string") {
    if (json) return fmt::format("[{},{}]\n", time_string(result.at(0).get<double>()),
                                 json_string(type == "scalar" ? value_string(value_of(result.at(1)))
                                                              : result.at(1).get<std::string>()));
    if (type == "string") {
      return fmt::format("string: {} @[{}]\n", result.at(1).get<std::string>(),
                         time_string(result.at(0).get<double>()));
    }
    return "scalar: " + pair_string(result) + "\n";
  }
  if (type == "vector") {
    for (const auto& s : result) {
      LabelMap m = labels_of(s.at("metric"));
      if (json) {
        out += (out.empty() ? "" : ",") + fmt::format("{{\"metric\":{},\"value\":{}}}", json_object(m),
                                                       pair_json(s.at("value")));
      } else {
        out += (out.empty() ? "" : "\n") + metric_string(m) + " => " + pair_string(s.at("value"));
      }
    }
    return json ? "[" + out + "]\n" : out + "\n";
  }
  if (type == "matrix") {
    std::vector<std::pair<LabelMap, const Json*>> series;
    for (const auto& s : result) series.emplace_back(labels_of(s.at("metric")), &s);
    if (!json) {
      std::stable_sort(series.begin(), series.end(),
                       [](const auto& a, const auto& b) { return before(a.first, b.first); });
    }
    for (const auto& [m, s] : series) {
      std::string values;
      for (const auto& p : s->value("values", Json::array())) {
        if (json) values += (values.empty() ? "" : ",") + pair_json(p);
        else values += "\n" + pair_string(p);
      }
      if (json) {
        out += (out.empty() ? "" : ",") + fmt::format("{{\"metric\":{},\"values\":[{}]}}", json_object(m), values);
      } else {
        out += (out.empty() ? "" : "\n") + metric_string(m) + " =>" + values;
      }
    }
    return json ? "[" + out + "]\n" : out + "\n";
  }
  return fail("unexpected result type " + go_quote(type));
}

std::string seconds_param(double s) { return go_format_float(s, 'f', -1); }

}  // namespace

std::optional<double> parse_query_time(std::string_view s) {
  std::string str(s);
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (!str.empty() && end == str.c_str() + str.size() && std::isfinite(v)) {
    double whole = std::trunc(v);
    return whole + std::round((v - whole) * 1000) / 1000;
  }
  if (auto ms = parse_rfc3339(s)) return static_cast<double>(*ms) / 1000;
  return std::nullopt;
}

int run_api_query(ApiQuery q, double now_seconds, std::ostream& out, std::ostream& err) {
  auto client = net::HttpClient::create(q.http_config);
  if (!client) {
    err << "error creating API client: " << client.error().message << "\n";
    return 1;
  }
  std::string base = q.server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  net::HttpRequest req;
  req.method = "POST";
  req.content_type = "application/x-www-form-urlencoded";
  req.headers = q.headers;
  req.timeout = 2 * kMinute;
  req.max_body = size_t{1} << 30;
  req.redact_body = false;
  auto param = [&](std::string_view name, std::string_view value) {
    if (!req.body.empty()) req.body += "&";
    req.body += net::url_query_escape(name) + "=" + net::url_query_escape(value);
  };
  switch (q.kind) {
    case ApiQuery::Kind::kInstant:
      req.url = base + "/api/v1/query";
      param("query", q.expr);
      param("time", seconds_param(q.time.value_or(now_seconds)));
      break;
    case ApiQuery::Kind::kRange: {
      double end = q.end.value_or(now_seconds);
      double start = q.start.value_or(end - 300);
      if (!(start < end)) {
        err << "start time is not before end time\n";
        return 1;
      }
      double step = q.step_seconds.value_or(std::max(std::floor((end - start) / 250), 1.0));
      req.url = base + "/api/v1/query_range";
      param("query", q.expr);
      param("start", seconds_param(start));
      param("end", seconds_param(end));
      param("step", seconds_param(step));
      break;
    }
    case ApiQuery::Kind::kSeries:
    case ApiQuery::Kind::kLabels:
      req.url = base + (q.kind == ApiQuery::Kind::kSeries
                            ? "/api/v1/series"
                            : "/api/v1/label/" + net::url_query_escape(q.label) + "/values");
      for (const auto& m : q.match) param("match[]", m);
      if (q.start) param("start", seconds_param(*q.start));
      if (q.end) param("end", seconds_param(*q.end));
      // Label values are read with GET (the endpoint takes no POST).
      if (q.kind == ApiQuery::Kind::kLabels) {
        req.method = "GET";
        if (!req.body.empty()) req.url += "?" + req.body;
        req.body.clear();
      }
      break;
  }
  auto resp = client->get()->send(req);
  if (!resp) {
    err << "query error: " << resp.error().message << "\n";
    return 1;
  }
  Json body = Json::parse(resp->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    err << "query error: server returned HTTP status " << resp->status << " without a JSON body\n";
    return 1;
  }
  if (body.value("status", "") != "success") {
    err << "query error: " << body.value("errorType", "error") << ": " << body.value("error", "") << "\n";
    return 1;
  }
  try {
    for (const auto& w : body.value("warnings", Json::array())) {
      err << "query warning: " << w.get<std::string>() << "\n";
    }
    const Json& data = body.at("data");
    if (q.kind == ApiQuery::Kind::kInstant || q.kind == ApiQuery::Kind::kRange) {
      auto text = render(data, q.json);
      if (!text) {
        err << "query error: " << text.error().message << "\n";
        return 1;
      }
      out << *text;
    } else if (q.kind == ApiQuery::Kind::kSeries) {
      std::string s;
      for (const auto& set : data) {
        LabelMap m = labels_of(set);
        if (q.json) s += (s.empty() ? "" : ",") + json_object(m);
        else out << label_set_string(m) << "\n";
      }
      if (q.json) out << "[" << s << "]\n";
    } else {
      std::string s;
      for (const auto& v : data) {
        if (q.json) s += (s.empty() ? "" : ",") + json_string(v.get<std::string>());
        else out << v.get<std::string>() << "\n";
      }
      if (q.json) out << "[" << s << "]\n";
    }
  } catch (const Json::exception& e) {
    err << "query error: unexpected response: " << e.what() << "\n";
    return 1;
  }
  out.flush();
  return 0;
}

}  // namespace vigil::rules
