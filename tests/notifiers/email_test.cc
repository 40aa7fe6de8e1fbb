// Email messages as composed for the wire: threading headers.
#include <doctest/doctest.h>

#include <ctime>

#include <fmt/format.h>

#include "notifiers/email.h"
#include "notifiers/render.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;

namespace {

// The message the receiver's first integration composes for `n` at `now`.
std::string composed(const routing::Notification& n, Millis now) {
  IntegrationOptions opts;
  opts.hostname = "vigil.test";
  auto made = make_integration(*n.integration, opts);
  REQUIRE(made);
  auto templates = templates::NotificationTemplates::load({});
  REQUIRE(templates);
  auto data = templates::make_notification_data(n.receiver->name, n.group_labels, {}, "http://vigil.example",
                                                templates::go_time_from_unix_millis(now));
  templates::Value value = templates::notification_value(data);
  Message m{n, data, value, *templates, now, now + kMinute, nullptr};
  auto text = dynamic_cast<Email&>(**made).compose(m, "b0undary");
  REQUIRE(text);
  return *text;
}

// The value of header `name` in a composed message ("" when absent).
std::string header(const std::string& msg, std::string_view name) {
  std::string key = fmt::format("\r\n{}: ", name);
  std::string head = "\r\n" + msg.substr(0, msg.find("\r\n\r\n") + 2);
  size_t at = head.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return head.substr(at, head.find("\r\n", at) - at);
}

std::string local_date(Millis t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string email_config(std::string_view threading) {
  return receiver_config(fmt::format("  email_configs:\n  - to: ops@example.com\n    from: vigil@example.com\n"
                                     "    smarthost: 127.0.0.1:25\n{}",
                                     threading));
}

}  // namespace

TEST_CASE("email threading: one thread per group, a new one each day with thread_by_date daily") {
  auto cfg = load(email_config("    threading: {enabled: true, thread_by_date: daily}\n"));
  auto n = notification(cfg, "r", 0, two_alerts());
  const std::string hash = sha256_hex(n.group_key).substr(0, 16);

  std::string first = composed(n, kT0);
  std::string root = fmt::format("<alert-{}-{}@alertmanager>", hash, local_date(kT0));
  CHECK(header(first, "References") == root);
  CHECK(header(first, "In-Reply-To") == root);
  // The mail's own Message-Id stays unique.
  CHECK(header(first, "Message-Id").ends_with("@vigil.test>"));
  CHECK(header(first, "Message-Id") != header(composed(n, kT0), "Message-Id"));

  // Later the same day: the same thread.
  CHECK(header(composed(n, kT0 + kMinute), "References") == root);
  // A day later: a new one.
  std::string next_day = header(composed(n, kT0 + 24 * kHour), "References");
  CHECK(next_day == fmt::format("<alert-{}-{}@alertmanager>", hash, local_date(kT0 + 24 * kHour)));
  CHECK(next_day != root);

  // Another group: another thread.
  auto other = n;
  other.group_key = "{}:{alertname=\"Other\"}";
  CHECK(header(composed(other, kT0), "References") != root);
}

TEST_CASE("email threading: thread_by_date none keeps one thread for good; off, no thread headers") {
  auto cfg = load(email_config("    threading: {enabled: true, thread_by_date: none}\n"));
  auto n = notification(cfg, "r", 0, two_alerts());
  std::string root = fmt::format("<alert-{}-@alertmanager>", sha256_hex(n.group_key).substr(0, 16));
  CHECK(header(composed(n, kT0), "References") == root);
  CHECK(header(composed(n, kT0 + 40 * 24 * kHour), "In-Reply-To") == root);

  auto plain = load(email_config(""));
  std::string msg = composed(notification(plain, "r", 0, two_alerts()), kT0);
  CHECK(header(msg, "References").empty());
  CHECK(header(msg, "In-Reply-To").empty());
  CHECK_FALSE(header(msg, "Message-Id").empty());
}
