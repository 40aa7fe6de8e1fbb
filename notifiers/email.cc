#include "notifiers/email.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <random>

#include <fmt/format.h>

#include "net/http_client.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

using net::read_credential;

using net::Redactor;
using net::abort_when;
using net::apply_tls_config;
using net::collect_secrets;
using net::ensure_curl_initialised;

using config::ConfigValue;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Result<std::string> one_address(std::string_view item) {
  item = trim(item);
  if (item.empty()) return fail("mail: no address");
  std::string_view addr = item;
  if (size_t lt = item.rfind('<'); lt != std::string_view::npos) {
    size_t gt = item.find('>', lt);
    if (gt == std::string_view::npos) return fail(fmt::format("mail: unclosed angle-addr in {:?}", item));
    addr = item.substr(lt + 1, gt - lt - 1);
  }
  addr = trim(addr);
  size_t at = addr.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == addr.size())
    return fail(fmt::format("mail: missing '@' or angle-addr in {:?}", item));
  for (char c : addr)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '<' || c == '>' || c == ',')
      return fail(fmt::format("mail: invalid address {:?}", addr));
  return std::string(addr);
}

std::string rfc1123z(Millis t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string random_hex(size_t bytes) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  for (size_t i = 0; i < bytes; ++i) out += fmt::format("{:02x}", static_cast<unsigned>(rng() & 0xff));
  return out;
}

struct Upload {
  std::string_view data;
};

size_t read_upload(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t len = std::min(size * n, u->data.size());
  std::memcpy(buf, u->data.data(), len);
  u->data.remove_prefix(len);
  return len;
}

}  // namespace

Result<std::vector<std::string>> parse_address_list(std::string_view list) {
  std::vector<std::string> out;
  bool quoted = false;
  int angle = 0;
  size_t start = 0;
  for (size_t i = 0; i <= list.size(); ++i) {
    const bool end = i == list.size();
    char c = end ? ',' : list[i];
    if (!end && c == '"' && (i == 0 || list[i - 1] != '\\')) quoted = !quoted;
    else if (!end && !quoted && c == '<') ++angle;
    else if (!end && !quoted && c == '>') --angle;
    else if (end || (!quoted && angle == 0 && c == ',')) {
      auto addr = one_address(list.substr(start, i - start));
      if (!addr) return std::unexpected(addr.error());
      out.push_back(std::move(*addr));
      start = i + 1;
    }
  }
  if (quoted) return fail("mail: unclosed quoted-string");
  return out;
}

std::string encode_header_value(std::string_view value) {
  bool plain = std::all_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
  if (plain) return std::string(value);
  // Encoded words of at most 75 characters, never splitting a character.
  constexpr std::string_view kOpen = "=?utf-8?q?", kClose = "?=";
  constexpr size_t kMaxWord = 75;
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += "\r\n ";
    out += std::string(kOpen) + word + std::string(kClose);
    word.clear();
  };
  for (size_t i = 0; i < value.size();) {
    auto u = static_cast<unsigned char>(value[i]);
    size_t len = u < 0x80 ? 1 : (u >> 5) == 0x6 ? 2 : (u >> 4) == 0xE ? 3 : (u >> 3) == 0x1E ? 4 : 1;
    len = std::min(len, value.size() - i);
    std::string enc;
    for (size_t k = 0; k < len; ++k) {
      auto b = static_cast<unsigned char>(value[i + k]);
      if (b == ' ') enc += '_';
      else if (b >= 0x21 && b < 0x7f && b != '=' && b != '?' && b != '_') enc += static_cast<char>(b);
      else enc += fmt::format("={:02X}", b);
    }
    if (kOpen.size() + word.size() + enc.size() + kClose.size() > kMaxWord) flush();
    word += enc;
    i += len;
  }
  flush();
  return out;
}

std::string quoted_printable(std::string_view body) {
  std::string out;
  size_t line_len = 0;
  auto emit = [&](std::string_view piece) {
    if (line_len + piece.size() > 75) {
      out += "=\r\n";
      line_len = 0;
    }
    out += piece;
    line_len += piece.size();
  };
  for (size_t i = 0; i < body.size(); ++i) {
    auto b = static_cast<unsigned char>(body[i]);
    if (b == '\r' && i + 1 < body.size() && body[i + 1] == '\n') continue;  // the \n ends the line
    if (b == '\n') {
      out += "\r\n";
      line_len = 0;
      continue;
    }
    bool at_line_end = i + 1 == body.size() || body[i + 1] == '\n' || body[i + 1] == '\r';
    bool literal = (b >= 33 && b <= 126 && b != '=') || ((b == ' ' || b == '\t') && !at_line_end);
    if (literal) {
      char c = static_cast<char>(b);
      emit(std::string_view(&c, 1));
    } else {
      emit(fmt::format("={:02X}", b));
    }
  }
  return out;
}

std::string thread_headers(std::string_view group_key, bool by_date, Millis now) {
  std::string date;
  if (by_date) {
    // The local date, as upstream formats time.Now().
    std::time_t secs = static_cast<std::time_t>(now / 1000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    date = buf;
  }
  // A Message-Id no mail has: clients that thread by references (JWZ's
  // algorithm) gather the group's mails under it.
  std::string root = fmt::format("<alert-{}-{}@alertmanager>", sha256_hex(group_key).substr(0, 16), date);
  return fmt::format("References: {}\r\nIn-Reply-To: {}\r\n", root, root);
}

Result<std::unique_ptr<Integration>> Email::create(const ConfigValue& settings, const IntegrationOptions& opts) {
  auto e = std::make_unique<Email>();
  e->settings_ = settings;
  std::string_view smarthost = settings.str("smarthost");
  size_t colon = smarthost.rfind(':');
  if (smarthost.empty() || colon == std::string_view::npos)
    return fail(fmt::format("email: smarthost must be host:port, got {:?}", smarthost));
  e->host_ = std::string(smarthost.substr(0, colon));
  e->port_ = std::string(smarthost.substr(colon + 1));
  if (e->host_.size() > 1 && e->host_.front() == '[' && e->host_.back() == ']')
    e->host_ = e->host_.substr(1, e->host_.size() - 2);
  if (!settings.has("to")) return fail("email: missing to address in email config");
  e->hostname_ = opts.hostname;
  if (e->hostname_.empty()) {
    char buf[256] = {0};
    e->hostname_ = gethostname(buf, sizeof buf - 1) == 0 ? buf : "localhost.localdomain";
  }
  collect_secrets(settings, e->redactor_);
  ensure_curl_initialised();
  return std::unique_ptr<Integration>(std::move(e));
}

Result<std::string> Email::compose(const Message& m, std::string_view boundary) const {
  Renderer r(m.templates, m.value);
  std::map<std::string, std::string> headers;
  if (const ConfigValue* hs = settings_.find("headers"); hs && hs->is_map())
    for (const auto& [k, v] : hs->entries()) headers[k] = v.as_string();
  headers.try_emplace("Subject", "{{ template \"email.default.subject\" . }}");
  headers.try_emplace("To", std::string(settings_.str("to")));
  headers.try_emplace("From", std::string(settings_.str("from")));

  std::string out;
  for (const auto& [name, tmpl] : headers) {
    std::string value = r.text(tmpl);
    if (r.error()) return fail(fmt::format("execute {:?} header template: {}", name, r.error()->message));
    // A header value cannot hold a line break: it would start a new header.
    std::replace_if(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
    out += fmt::format("{}: {}\r\n", name, encode_header_value(value));
  }
  if (!headers.contains("Message-Id"))
    out += fmt::format("Message-Id: <{}.{}@{}>\r\n", m.now * 1'000'000, random_hex(8), hostname_);
  if (const ConfigValue* th = settings_.find("threading"); th && th->flag("enabled"))
    out += thread_headers(m.notification.group_key, th->str("thread_by_date") != "none", m.now);
  out += fmt::format("Date: {}\r\n", rfc1123z(m.now));
  out += fmt::format("Content-Type: multipart/alternative;  boundary={}\r\n", boundary);
  out += "MIME-Version: 1.0\r\n\r\n";

  bool first = true;
  auto part = [&](std::string_view type, const std::string& body) {
    out += fmt::format("{}--{}\r\n", first ? "" : "\r\n", boundary);
    first = false;
    out += fmt::format("Content-Transfer-Encoding: quoted-printable\r\nContent-Type: {}; charset=UTF-8\r\n\r\n", type);
    out += quoted_printable(body);
  };
  if (settings_.has("text")) {
    std::string text = r.text(settings_.str("text"));
    if (r.error()) return fail("execute text template: " + r.error()->message);
    part("text/plain", text);
  }
  if (settings_.has("html")) {
    std::string html = r.html(settings_.str("html"));
    if (r.error()) return fail("execute html template: " + r.error()->message);
    part("text/html", html);
  }
  out += fmt::format("{}--{}--\r\n", first ? "" : "\r\n", boundary);
  return out;
}

AttemptResult Email::send(const Message& m) {
  Renderer r(m.templates, m.value);
  std::string from = r.text(settings_.str("from"));
  if (r.error()) return AttemptResult::permanent("execute 'from' template: " + r.error()->message);
  std::string to = r.text(settings_.str("to"));
  if (r.error()) return AttemptResult::permanent("execute 'to' template: " + r.error()->message);
  auto from_addrs = parse_address_list(from);
  if (!from_addrs) return AttemptResult::permanent("parse 'from' addresses: " + from_addrs.error().message);
  if (from_addrs->size() != 1)
    return AttemptResult::permanent(fmt::format("must be exactly one 'from' address (got: {})", from_addrs->size()));
  auto to_addrs = parse_address_list(to);
  if (!to_addrs) return AttemptResult::permanent("parse 'to' addresses: " + to_addrs.error().message);

  auto message = compose(m, random_hex(30));
  if (!message) return AttemptResult::permanent(message.error().message);

  auto password = read_credential(settings_, "auth_password", "auth_password_file");
  if (!password) return AttemptResult::permanent("auth_password_file: " + password.error().message);
  auto secret = read_credential(settings_, "auth_secret", "auth_secret_file");
  if (!secret) return AttemptResult::permanent("auth_secret_file: " + secret.error().message);
  Redactor redact = redactor_;
  redact.add(*password);
  redact.add(*secret);

  const bool implicit_tls = settings_.find("force_implicit_tls") != nullptr && !settings_.find("force_implicit_tls")->is_null()
                                ? settings_.flag("force_implicit_tls")
                                : port_ == "465";
  const ConfigValue* tls = settings_.find("tls_config");
  std::string host = host_;
  std::string connect_to;
  if (tls != nullptr && tls->is_map() && tls->has("server_name")) {
    host = std::string(tls->str("server_name"));
    connect_to = fmt::format("{}:{}:{}:{}", host, port_, host_, port_);
  }
  const bool v6 = host.find(':') != std::string::npos;
  std::string url = fmt::format("{}://{}{}{}:{}/{}", implicit_tls ? "smtps" : "smtp", v6 ? "[" : "", host,
                                v6 ? "]" : "", port_, settings_.str("hello"));

  if (m.dry_run != nullptr) {
    DryRunRequest d;
    d.integration = m.notification.integration;
    d.method = "SMTP";
    d.url = redact.redact(url);
    d.headers.push_back("MAIL FROM: <" + (*from_addrs)[0] + ">");
    for (const auto& a : *to_addrs) d.headers.push_back("RCPT TO: <" + a + ">");
    if (!settings_.str("auth_username").empty())
      d.headers.push_back(fmt::format("AUTH: {} as {}", password->empty() ? "CRAM-MD5" : "PLAIN or LOGIN",
                                      settings_.str("auth_username")));
    d.body = redact.redact(*message);
    m.dry_run->record(std::move(d));
    return AttemptResult::success();
  }

  CURL* h = curl_easy_init();
  if (h == nullptr) return AttemptResult::transient("cannot create an SMTP handle");
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* rcpt = nullptr;
  for (const auto& a : *to_addrs) rcpt = curl_slist_append(rcpt, ("<" + a + ">").c_str());
  curl_slist* connect_list = connect_to.empty() ? nullptr : curl_slist_append(nullptr, connect_to.c_str());
  Upload upload{*message};
  std::string mail_from = "<" + (*from_addrs)[0] + ">";
  std::string username(settings_.str("auth_username"));
  std::string identity(settings_.str("auth_identity"));

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message->size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(m.time_left(0)));
  abort_when(h, m.cancel);
  if (connect_list != nullptr) curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_list);
  if (settings_.flag("require_tls") && !implicit_tls) curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, username.c_str());
    if (!password->empty()) {
      curl_easy_setopt(h, CURLOPT_PASSWORD, password->c_str());
      curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN;AUTH=LOGIN");
      if (!identity.empty()) curl_easy_setopt(h, CURLOPT_SASL_AUTHZID, identity.c_str());
    } else if (!secret->empty()) {
      curl_easy_setopt(h, CURLOPT_PASSWORD, secret->c_str());
      curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=CRAM-MD5");
    }
  }
  AttemptResult result = AttemptResult::success();
  if (auto ok = apply_tls_config(h, tls); !ok) {
    result = AttemptResult::permanent("parse TLS configuration: " + ok.error().message);
  } else if (CURLcode rc = curl_easy_perform(h); rc != CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    if (code != 0) detail += fmt::format(" (last SMTP reply {})", code);
    FailureReason reason = rc == CURLE_LOGIN_DENIED ? FailureReason::kAuthError : FailureReason::kOther;
    if (rc == CURLE_USE_SSL_FAILED)
      detail = fmt::format("'require_tls' is true but {}:{} does not advertise the STARTTLS extension", host_, port_);
    result = AttemptResult::transient("send email: " + redact.redact(detail), reason);
  }
  curl_slist_free_all(rcpt);
  curl_slist_free_all(connect_list);
  curl_easy_cleanup(h);
  return result;
}

}  // namespace vigil::notifiers
