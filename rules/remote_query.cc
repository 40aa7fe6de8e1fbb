// remote_query (rules/evaluation.h): rule queries through a remote
// Prometheus-compatible server's /api/v1/query.
#include <cstdlib>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "net/url.h"
#include "promql/printer.h"
#include "rules/evaluation.h"

namespace vigil::rules {

Result<QueryFn> remote_query(const RemoteQueryOptions& opts) {
  config::ConfigValue http = config::http_config_of(opts.http);
  auto made = net::HttpClient::create(&http);
  if (!made) return fail("datasource: " + made.error().message);
  std::shared_ptr<net::HttpClient> client = *made;
  std::string base = opts.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const Millis timeout = opts.timeout;
  return [client, base, timeout](const promql::Expr& expr, int64_t t) -> Result<promql::Vector> {
    net::HttpRequest req;
    req.method = "POST";
    req.url = base + "/api/v1/query";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "query=" + net::url_query_escape(promql::to_string(expr)) +
               fmt::format("&time={}.{:03}", t / 1000, t % 1000);
    req.timeout = timeout;
    req.max_body = size_t{256} << 20;
    auto resp = client->send(req);
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
    try {
      const nlohmann::json& data = body.at("data");
      std::string type = data.at("resultType").get<std::string>();
      // strtod reads the API's "NaN", "+Inf" and "-Inf" too.
      auto value_of = [](const nlohmann::json& pair) {
        return std::strtod(pair.at(1).get<std::string>().c_str(), nullptr);
      };
      promql::Vector out;
      if (type == "scalar") {
        out.push_back(promql::Sample{{}, value_of(data.at("result")), t});
        return out;
      }
      if (type != "vector") return fail("remote query returned a " + type + ", not a vector or scalar");
      for (const auto& s : data.at("result")) {
        std::vector<Label> ls;
        for (const auto& [k, v] : s.at("metric").items()) ls.push_back(Label{k, v.get<std::string>()});
        out.push_back(promql::Sample{Labels(ls), value_of(s.at("value")), t});
      }
      return out;
    } catch (const nlohmann::json::exception& e) {
      return fail(std::string("remote query returned an unexpected body: ") + e.what());
    }
  };
}

}  // namespace vigil::rules
