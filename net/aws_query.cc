#include "net/aws_query.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include <fmt/format.h>

#include "model/names.h"
#include "model/timestamp.h"
#include "net/url.h"

namespace vigil::net::aws {

std::string form_encode(Params params) {
  std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += url_query_escape(k) + "=" + url_query_escape(v);
  }
  return out;
}

Result<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint ep;
  ep.url = std::string(url);
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0)
    return fail(fmt::format("invalid endpoint URL {:?}: no scheme", url));
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return fail(fmt::format("invalid endpoint URL {:?}: no host", url));
  std::string host(authority);
  for (std::string_view port : {scheme == "https" ? ":443" : "", scheme == "http" ? ":80" : ""})
    if (!port.empty() && host.ends_with(port)) host.resize(host.size() - port.size());
  ep.host = host;
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  size_t q = tail.find('?');
  ep.path = std::string(tail.substr(0, q));
  if (ep.path.empty()) ep.path = "/";
  if (q != std::string_view::npos) ep.query = std::string(tail.substr(q + 1));
  return ep;
}

std::string default_endpoint(std::string_view service, std::string_view region) {
  std::string_view domain = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return fmt::format("https://{}.{}.{}", service, region, domain);
}

HttpRequest signed_post(const Endpoint& ep, std::string body, const sigv4::Credentials& creds,
                        std::string_view region, std::string_view service, Millis now) {
  HttpRequest req;
  req.method = "POST";
  req.url = ep.url;
  req.content_type = "application/x-www-form-urlencoded";
  req.body = std::move(body);
  sigv4::Request sr;
  sr.method = req.method;
  sr.path = ep.path;
  sr.query = ep.query;
  sr.headers = {{"Content-Type", req.content_type}, {"Host", ep.host}};
  sr.body = req.body;
  sigv4::Signed s = sigv4::sign(sr, creds, {std::string(region), std::string(service), now, false});
  // The Host header is sent as signed, not as libcurl would write it.
  req.headers.emplace_back("Host", ep.host);
  for (auto& h : s.headers) req.headers.push_back(std::move(h));
  return req;
}

namespace {

std::string decode_entities(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string_view name = s.substr(i + 1, semi - i - 1);
    static constexpr std::array<std::pair<std::string_view, char>, 5> kNamed{
        {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}}};
    bool done = false;
    for (const auto& [n, c] : kNamed)
      if (name == n) {
        out += c;
        done = true;
      }
    if (!done && name.size() > 1 && name[0] == '#') {
      bool hex = name[1] == 'x' || name[1] == 'X';
      std::string digits(name.substr(hex ? 2 : 1));
      char* end = nullptr;
      unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (!digits.empty() && end != nullptr && *end == '\0' && cp > 0 && cp <= 0x10FFFF) {
        append_utf8(out, static_cast<uint32_t>(cp));
        done = true;
      }
    }
    if (!done) {
      out += s[i];
      continue;
    }
    i = semi;
  }
  return out;
}

}  // namespace

std::string xml_text(std::string_view xml, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag), close = fmt::format("</{}>", tag);
  size_t start = xml.find(open);
  if (start == std::string_view::npos) return "";
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return "";
  std::string_view text = xml.substr(start, end - start);
  constexpr std::string_view kCdataOpen = "<![CDATA[", kCdataClose = "]]>";
  if (text.starts_with(kCdataOpen) && text.ends_with(kCdataClose))
    return std::string(text.substr(kCdataOpen.size(), text.size() - kCdataOpen.size() - kCdataClose.size()));
  return decode_entities(text);
}

ApiError parse_error(std::string_view body) {
  size_t error = body.find("<Error>");
  if (error == std::string_view::npos) return {};
  std::string_view inner = body.substr(error);
  return {xml_text(inner, "Code"), xml_text(inner, "Message")};
}

bool retryable_code(std::string_view code) {
  static constexpr std::string_view kCodes[] = {
      "RequestTimeout",         "RequestTimeoutException",
      "Throttling",             "ThrottlingException",
      "ThrottledException",     "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException",
      "TransactionInProgressException", "RequestLimitExceeded",
      "BandwidthLimitExceeded", "LimitExceededException",
      "RequestThrottled",       "SlowDown",
      "PriorRequestNotComplete", "EC2ThrottledException",
  };
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

std::expected<AssumedRole, StsFailure> assume_role(const HttpClient& http, const AssumeRoleRequest& r,
                                                   const sigv4::Credentials& base) {
  auto ep = parse_endpoint(r.sts_url);
  if (!ep) return std::unexpected(StsFailure{0, ep.error().message, false});
  // 900 seconds: the Go SDK's AssumeRole provider's default duration.
  Params params{{"Action", "AssumeRole"},
                {"Version", "2011-06-15"},
                {"RoleArn", r.role_arn},
                {"RoleSessionName", r.session_name},
                {"DurationSeconds", "900"}};
  if (!r.external_id.empty()) params.emplace_back("ExternalId", r.external_id);
  HttpRequest req = signed_post(*ep, form_encode(std::move(params)), base, r.region, "sts", r.now);
  req.timeout = r.timeout;
  req.cancel = r.cancel;
  auto resp = http.send(req);
  if (!resp) return std::unexpected(StsFailure{0, resp.error().message});
  if (resp->status / 100 != 2) {
    ApiError e = parse_error(resp->body);
    std::string msg = fmt::format("unexpected status code {}", resp->status);
    if (!e.message.empty()) msg += ": " + e.message;
    bool retry = resp->status / 100 == 5 || resp->status == 429 || retryable_code(e.code);
    return std::unexpected(StsFailure{resp->status, msg, retry});
  }
  AssumedRole out;
  out.creds = {xml_text(resp->body, "AccessKeyId"), xml_text(resp->body, "SecretAccessKey"),
               xml_text(resp->body, "SessionToken")};
  if (out.creds.access_key.empty() || out.creds.secret_key.empty())
    return std::unexpected(StsFailure{0, "AssumeRole answer has no credentials"});
  auto exp = parse_rfc3339(xml_text(resp->body, "Expiration"));
  out.expires = exp ? *exp : r.now + 15 * kMinute;
  return out;
}

}  // namespace vigil::net::aws
