// remote_query and remote_series (rules/evaluation.h): rule queries and
// the `for` state read at a fresh start, through a remote
// Prometheus-compatible server's /api/v1/query.
#include <cstdlib>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "net/url.h"
#include "promql/printer.h"
#include "rules/evaluation.h"
#include "rules/histogram_json.h"

namespace vigil::rules {

namespace {

// One instant query; the answer's `data` object, or the server's error.
class RemoteApi {
 public:
  static Result<RemoteApi> make(const RemoteQueryOptions& opts) {
    config::ConfigValue http = config::http_config_of(opts.http);
    auto made = net::HttpClient::create(&http);
    if (!made) return fail("datasource: " + made.error().message);
    std::string base = opts.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return RemoteApi(*made, std::move(base), opts.timeout);
  }

  Result<nlohmann::json> query(const std::string& expr, int64_t t) const {
    net::HttpRequest req;
    req.method = "POST";
    req.url = base_ + "/api/v1/query";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "query=" + net::url_query_escape(expr) + fmt::format("&time={}.{:03}", t / 1000, t % 1000);
    req.timeout = timeout_;
    req.max_body = size_t{256} << 20;
    auto resp = client_->send(req);
    if (!resp) return fail("remote query failed: " + resp.error().message);
    // Parsed into std::map objects: ordered_json compares each key with all
    // before it, and a series may carry many labels.
    nlohmann::json body = nlohmann::json::parse(resp->body, nullptr, false);
    if (body.is_discarded()) {
      return fail(fmt::format("remote query failed: HTTP {} with a body that is not JSON", resp->status));
    }
    if (body.value("status", "") != "success") {
      return fail(fmt::format("remote query failed: HTTP {}: {}: {}", resp->status, body.value("errorType", "error"),
                              body.value("error", "no message")));
    }
    if (!body.contains("data") || !body["data"].is_object()) {
      return fail("remote query returned an unexpected body: no data object");
    }
    return std::move(body["data"]);
  }

 private:
  RemoteApi(std::shared_ptr<net::HttpClient> client, std::string base, Millis timeout)
      : client_(std::move(client)), base_(std::move(base)), timeout_(timeout) {}
  std::shared_ptr<net::HttpClient> client_;
  std::string base_;
  Millis timeout_;
};

// strtod reads the API's "NaN", "+Inf" and "-Inf" too.
double value_of(const nlohmann::json& pair) { return std::strtod(pair.at(1).get<std::string>().c_str(), nullptr); }

Labels metric_of(const nlohmann::json& series) {
  std::vector<Label> ls;
  for (const auto& [k, v] : series.at("metric").items()) ls.push_back(Label{k, v.get<std::string>()});
  return Labels(ls);
}

// The API's timestamps are seconds with a millisecond fraction.
int64_t millis_of(const nlohmann::json& pair) {
  return static_cast<int64_t>(std::llround(pair.at(0).get<double>() * 1000.0));
}

}  // namespace

Result<RemoteSeries> remote_series_from_json(const nlohmann::json& s) {
  RemoteSeries r{metric_of(s), {}, {}};
  static const nlohmann::json kNone = nlohmann::json::array();
  const nlohmann::json& values = s.contains("values") ? s.at("values") : kNone;
  const nlohmann::json& hists = s.contains("histograms") ? s.at("histograms") : kNone;
  if (!values.is_array() || !hists.is_array())
    return fail("remote query returned a series whose points are not a list");
  const size_t n = values.size() + hists.size();
  r.t.reserve(n);
  r.v.reserve(n);
  if (!hists.empty()) r.h.reserve(n);
  size_t i = 0, j = 0;
  while (i < values.size() || j < hists.size()) {
    // Each list is in time order; a float and a histogram never share a
    // timestamp in one series.
    const bool take_float =
        j == hists.size() || (i < values.size() && millis_of(values.at(i)) < millis_of(hists.at(j)));
    const int64_t t = take_float ? millis_of(values.at(i)) : millis_of(hists.at(j));
    if (!r.t.empty() && t <= r.t.back())
      return fail(fmt::format("remote query returned points of {} out of time order", r.labels.to_string()));
    r.t.push_back(t);
    if (take_float) {
      r.v.push_back(value_of(values.at(i++)));
      if (!hists.empty()) r.h.push_back(nullptr);
    } else {
      auto h = histogram_from_json(hists.at(j++).at(1));
      if (!h) return fail("remote query returned a histogram vigil cannot read: " + h.error().message);
      r.v.push_back(0);
      r.h.push_back(std::make_shared<const FloatHistogram>(std::move(*h)));
    }
  }
  return r;
}

Result<QueryFn> remote_query(const RemoteQueryOptions& opts) {
  auto api = RemoteApi::make(opts);
  if (!api) return std::unexpected(api.error());
  return [api = std::move(*api)](const promql::Expr& expr, int64_t t) -> Result<promql::Vector> {
    auto data = api.query(promql::to_string(expr), t);
    if (!data) return std::unexpected(data.error());
    try {
      std::string type = data->at("resultType").get<std::string>();
      promql::Vector out;
      if (type == "scalar") {
        out.push_back(promql::Sample{{}, value_of(data->at("result")), t});
        return out;
      }
      if (type != "vector") return fail("remote query returned a " + type + ", not a vector or scalar");
      for (const auto& s : data->at("result")) {
        if (s.contains("histogram")) {
          auto h = histogram_from_json(s.at("histogram").at(1));
          if (!h) return fail("remote query returned a histogram vigil cannot read: " + h.error().message);
          out.push_back(promql::Sample{metric_of(s), 0, t, std::make_shared<const FloatHistogram>(std::move(*h))});
        } else {
          out.push_back(promql::Sample{metric_of(s), value_of(s.at("value")), t});
        }
      }
      return out;
    } catch (const nlohmann::json::exception& e) {
      return fail(std::string("remote query returned an unexpected body: ") + e.what());
    }
  };
}

Result<SeriesReader> remote_series(const RemoteQueryOptions& opts) {
  auto api = RemoteApi::make(opts);
  if (!api) return std::unexpected(api.error());
  return [api = std::move(*api)](const std::vector<Matcher>& matchers, int64_t from,
                                 int64_t to) -> Result<std::vector<RemoteSeries>> {
    // A range selector in an instant query answers the raw samples of
    // (from, to], each with its timestamp.
    std::string sel;
    for (const auto& m : matchers) sel += (sel.empty() ? "" : ",") + m.to_string();
    auto data = api.query(fmt::format("{{{}}}[{}ms]", sel, std::max<int64_t>(to - from, 1)), to);
    if (!data) return std::unexpected(data.error());
    try {
      std::string type = data->at("resultType").get<std::string>();
      if (type != "matrix") return fail("remote query returned a " + type + ", not a matrix");
      std::vector<RemoteSeries> out;
      for (const auto& s : data->at("result")) {
        auto r = remote_series_from_json(s);
        if (!r) return std::unexpected(r.error());
        out.push_back(std::move(*r));
      }
      return out;
    } catch (const nlohmann::json::exception& e) {
      return fail(std::string("remote query returned an unexpected body: ") + e.what());
    }
  };
}

}  // namespace vigil::rules
