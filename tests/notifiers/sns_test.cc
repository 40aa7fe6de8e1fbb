// SigV4 against AWS's published signing test suite, and the SNS integration
// against a local server: the Publish form it posts, how it is signed, and
// which AWS answers are retried.

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "model/timestamp.h"
#include "net/aws_query.h"
#include "net/sigv4.h"
#include "net/url.h"
#include "notifiers/render.h"
#include "tests/notifiers/test_server.h"

namespace vigil::notifiers::testing {
namespace {

namespace sigv4 = net::sigv4;

// ---- SigV4: the aws-sig-v4 test suite's cases (header signing) ----

const sigv4::Credentials kSuiteCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

sigv4::Options suite_options() {
  auto t = parse_rfc3339("2015-08-30T12:36:00Z");
  REQUIRE(t);
  return {"us-east-1", "service", *t, false};
}

std::string suite_authorization(std::string_view signed_headers, std::string_view signature) {
  return fmt::format("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                     "SignedHeaders={}, Signature={}",
                     signed_headers, signature);
}

sigv4::Request get(std::string path, std::string query = "") {
  sigv4::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "example.amazonaws.com"}};
  return r;
}

constexpr std::string_view kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST_CASE("sigv4: get-vanilla") {
  sigv4::Signed s = sigv4::sign(get("/"), kSuiteCreds, suite_options());
  CHECK(s.canonical_request == fmt::format("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                                           "host;x-amz-date\n{}",
                                           kEmptyHash));
  CHECK(s.string_to_sign == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  CHECK(s.header("Authorization") ==
        suite_authorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  CHECK(s.header("X-Amz-Date") == "20150830T123600Z");
  CHECK(s.header("X-Amz-Security-Token") == "");
}

TEST_CASE("sigv4: get-vanilla-query-order-key-case sorts the query") {
  sigv4::Signed s = sigv4::sign(get("/", "Param2=value2&Param1=value1"), kSuiteCreds, suite_options());
  CHECK(s.canonical_request == fmt::format("GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                                           "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{}",
                                           kEmptyHash));
  CHECK(s.string_to_sign.ends_with("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"));
  CHECK(s.header("Authorization") ==
        suite_authorization("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
}

TEST_CASE("sigv4: post-header-key-sort") {
  sigv4::Request r = get("/");
  r.method = "POST";
  r.headers.emplace_back("My-Header1", "value1");
  sigv4::Signed s = sigv4::sign(r, kSuiteCreds, suite_options());
  CHECK(s.canonical_request == fmt::format("POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                                           "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n{}",
                                           kEmptyHash));
  CHECK(s.string_to_sign.ends_with("9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65"));
  CHECK(s.header("Authorization") == suite_authorization("host;my-header1;x-amz-date",
                                                         "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"));
}

TEST_CASE("sigv4: post-x-www-form-urlencoded signs the body and its hash header") {
  sigv4::Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
               {"Host", "example.amazonaws.com"},
               {"Content-Length", "13"}};
  r.body = "Param1=value1";
  sigv4::Options o = suite_options();
  o.content_sha256_header = true;
  sigv4::Signed s = sigv4::sign(r, kSuiteCreds, o);
  const std::string body_hash = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
  CHECK(s.canonical_request ==
        fmt::format("POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\n"
                    "host:example.amazonaws.com\nx-amz-content-sha256:{0}\nx-amz-date:20150830T123600Z\n\n"
                    "content-length;content-type;host;x-amz-content-sha256;x-amz-date\n{0}",
                    body_hash));
  CHECK(s.string_to_sign == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                            "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb");
  CHECK(s.header("Authorization") ==
        suite_authorization("content-length;content-type;host;x-amz-content-sha256;x-amz-date",
                            "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"));
  CHECK(s.header("X-Amz-Content-Sha256") == body_hash);
}

TEST_CASE("sigv4: get-vanilla-with-session-token signs the token") {
  sigv4::Credentials creds = kSuiteCreds;
  creds.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  sigv4::Signed s = sigv4::sign(get("/"), creds, suite_options());
  CHECK(s.canonical_request ==
        fmt::format("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:{}\n\n"
                    "host;x-amz-date;x-amz-security-token\n{}",
                    creds.session_token, kEmptyHash));
  CHECK(s.string_to_sign.ends_with("067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b"));
  CHECK(s.header("X-Amz-Security-Token") == creds.session_token);
  CHECK(s.header("Authorization") == suite_authorization("host;x-amz-date;x-amz-security-token",
                                                         "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"));
}

TEST_CASE("sigv4: more of the suite: query encoding, header values, paths") {
  struct Case {
    const char* name;
    sigv4::Request req;
    std::string_view canonical_line;  // the line that case is about
    std::string_view signed_headers;
    std::string_view signature;
  };
  sigv4::Request trim = get("/");
  trim.headers.emplace_back("My-Header1", " value1");
  trim.headers.emplace_back("My-Header2", " \"a   b   c\"");
  sigv4::Request dup = get("/");
  dup.headers.emplace_back("My-Header1", "value2");
  dup.headers.emplace_back("My-Header1", "value2");
  dup.headers.emplace_back("My-Header1", "value1");
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::vector<Case> cases = {
      {"get-vanilla-query-order-encoded", get("/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
       "\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\n", "host;x-amz-date",
       "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"},
      {"get-vanilla-query-unreserved", get("/", unreserved + "=" + unreserved), "\n" + unreserved + "=" + unreserved + "\n",
       "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", get("/", "\xE1\x88\xB4=bar"), "\n%E1%88%B4=bar\n", "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-header-value-trim", trim, "\nmy-header1:value1\nmy-header2:\"a b c\"\n",
       "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"get-header-key-duplicate", dup, "\nmy-header1:value2,value2,value1\n", "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-slashes-normalized", get("//example//"), "GET\n/example/\n", "host;x-amz-date",
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"get-relative-relative-normalized", get("/example1/example2/../.."), "GET\n/\n", "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-space-normalized", get("/example space/"), "GET\n/example%20space/\n", "host;x-amz-date",
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-utf8", get("/\xE1\x88\xB4"), "GET\n/%E1%88%B4\n", "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    sigv4::Signed s = sigv4::sign(c.req, kSuiteCreds, suite_options());
    CHECK_MESSAGE(s.canonical_request.find(c.canonical_line) != std::string::npos, s.canonical_request);
    CHECK(s.header("Authorization") == suite_authorization(c.signed_headers, c.signature));
  }
}

// ---- SNS against a local server ----

using Env = std::map<std::string, std::string>;

net::aws::EnvFn env_of(Env vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The form parameters of a body, decoded, in body order.
std::vector<std::pair<std::string, std::string>> form_of(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view piece = body.substr(start, end - start);
    size_t eq = piece.find('=');
    auto k = net::url_query_unescape(piece.substr(0, eq));
    auto v = net::url_query_unescape(eq == std::string_view::npos ? "" : piece.substr(eq + 1));
    REQUIRE(k);
    REQUIRE(v);
    out.emplace_back(*k, *v);
    start = end + 1;
  }
  return out;
}

std::string form_param(std::string_view body, std::string_view key) {
  for (const auto& [k, v] : form_of(body))
    if (k == key) return v;
  return "";
}

constexpr std::string_view kCreds =
    "    sigv4:\n      region: us-east-1\n      access_key: AKIDEXAMPLE\n"
    "      secret_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n";

// Delivers `alerts` to integration 0 of a receiver with the given sns_configs
// entry (its `api_url` pointing at `server`), with `env` as the environment.
struct SnsRun {
  DeliveryOutcome outcome;
  std::vector<Captured> requests;
  std::string logs;
};

SnsRun run_sns(TestServer& server, std::string_view entry, Env env = {},
               std::vector<std::shared_ptr<const routing::Alert>> alerts = two_alerts(), int notifications = 1) {
  auto cfg = load(receiver_config(fmt::format("  sns_configs:\n  - api_url: '{}'\n{}", server.url("/"), entry)));
  ManualClock clock(kT0);
  LogCapture logs;
  DeliveryOptions o = options(logs);
  o.integration.env = env_of(std::move(env));
  o.integration.sts_url = server.url("/");
  Delivery d(clock, o);
  SnsRun run;
  for (int i = 0; i < notifications; ++i) run.outcome = deliver_all(d, clock, notification(cfg, "r", 0, alerts));
  run.requests = server.requests();
  run.logs = logs.all();
  return run;
}

// Checks the request's signature by signing what was received again.
void check_signed(const Captured& c, const sigv4::Credentials& creds, std::string_view service,
                  std::string_view signed_headers) {
  CHECK(c.header("X-Amz-Date") == "20231114T221320Z");  // kT0
  std::string auth = c.header("Authorization");
  CHECK(auth.starts_with(fmt::format("AWS4-HMAC-SHA256 Credential={}/20231114/us-east-1/{}/aws4_request, "
                                     "SignedHeaders={}, Signature=",
                                     creds.access_key, service, signed_headers)));
  sigv4::Request r;
  r.method = c.method;
  r.path = c.path;
  r.headers = {{"Content-Type", c.header("Content-Type")}, {"Host", c.header("Host")}};
  r.body = c.body;
  sigv4::Signed again = sigv4::sign(r, creds, {"us-east-1", std::string(service), kT0, false});
  CHECK(auth == again.header("Authorization"));
}

const sigv4::Credentials kConfigCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

TEST_CASE("sns: a topic Publish, signed, with custom templates: the exact form") {
  TestServer server;
  SnsRun run = run_sns(server, fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
                                           "    subject: '[{{{{ .Status | toUpper }}}}] {{{{ .GroupLabels.alertname }}}}'\n"
                                           "    message: '{{{{ len .Alerts }}}} alerts & more'\n{}",
                                           kCreds));
  CHECK_MESSAGE(run.outcome.delivered, run.outcome.error);
  REQUIRE(run.requests.size() == 1);
  const Captured& c = run.requests[0];
  CHECK(c.method == "POST");
  CHECK(c.path == "/");
  CHECK(c.header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(c.header("X-Amz-Security-Token") == "");
  CHECK(c.body ==
        "Action=Publish&Message=2+alerts+%26+more&Subject=%5BFIRING%5D+DiskFull"
        "&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts&Version=2010-03-31");
  check_signed(c, kConfigCreds, "sns", "content-type;host;x-amz-date");
}

TEST_CASE("sns: the default subject and message, firing and resolved") {
  TestServer server;
  auto entry = fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n{}", kCreds);
  SnsRun firing = run_sns(server, entry);
  REQUIRE(firing.outcome.delivered);
  std::vector<std::shared_ptr<const routing::Alert>> resolved = {
      make_alert({{"alertname", "DiskFull"}, {"instance", "a:9100"}}, {{"summary", "Disk on a is full"}},
                 kT0 - kMinute, kT0 - 1000)};
  SnsRun done = run_sns(server, entry, {}, resolved);
  REQUIRE(done.outcome.delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(form_param(reqs[0].body, "Subject").starts_with("[FIRING:2] DiskFull"));
  CHECK(form_param(reqs[0].body, "Message").find("Disk on b is full") != std::string::npos);
  CHECK(form_param(reqs[1].body, "Subject").starts_with("[RESOLVED] DiskFull"));
  CHECK(form_param(reqs[1].body, "Message").find("Disk on a is full") != std::string::npos);
  for (const auto& [k, v] : form_of(reqs[0].body)) CHECK(!k.starts_with("MessageAttributes"));
}

TEST_CASE("sns: a phone number gets SMS's 1600-byte limit and the truncated attribute") {
  TestServer server;
  // 1599 zeros then a two-byte character: the cut at 1600 would split it.
  SnsRun run = run_sns(server, fmt::format("    phone_number: '+15555550100'\n"
                                           "    message: '{{{{ printf \"%01599d%s\" 0 \"\\u00e9\" }}}}'\n{}",
                                           kCreds));
  REQUIRE_MESSAGE(run.outcome.delivered, run.outcome.error);
  REQUIRE(run.requests.size() == 1);
  auto form = form_of(run.requests[0].body);
  std::vector<std::string> keys;
  for (const auto& [k, v] : form) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"Action", "Message", "MessageAttributes.entry.1.Name",
                                         "MessageAttributes.entry.1.Value.DataType",
                                         "MessageAttributes.entry.1.Value.StringValue", "PhoneNumber", "Subject",
                                         "Version"});
  CHECK(form_param(run.requests[0].body, "Message") == std::string(1599, '0'));
  CHECK(form_param(run.requests[0].body, "PhoneNumber") == "+15555550100");
  CHECK(form_param(run.requests[0].body, "MessageAttributes.entry.1.Name") == "truncated");
  CHECK(form_param(run.requests[0].body, "MessageAttributes.entry.1.Value.DataType") == "String");
  CHECK(form_param(run.requests[0].body, "MessageAttributes.entry.1.Value.StringValue") == "true");
}

// cpp-httplib refuses form bodies over 8 KiB, so the 256 KiB case has a
// plain listener of its own: one request, read whole, answered 200.
class BodyServer {
 public:
  std::string url() const { return fmt::format("http://127.0.0.1:{}/", listener_.port()); }
  std::string body() {
    std::lock_guard lock(mu_);
    return body_;
  }

 private:
  std::mutex mu_;
  std::string body_;
  RawListener listener_{[this](int c) {
    std::string in = read_http_request(c, true);
    {
      std::lock_guard lock(mu_);
      if (size_t end = in.find("\r\n\r\n"); end != std::string::npos) body_ = in.substr(end + 4);
    }
    std::string_view ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!::write(c, ok.data(), ok.size());
    ::close(c);
  }};
};

TEST_CASE("sns: a topic message is cut at 256 KiB") {
  BodyServer server;
  auto cfg = load(receiver_config(fmt::format("  sns_configs:\n  - api_url: '{}'\n"
                                              "    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
                                              "    message: '{{{{ printf \"%0270000d\" 0 }}}}'\n{}",
                                              server.url(), kCreds)));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  REQUIRE_MESSAGE(o.delivered, o.error);
  std::string body = server.body();
  CHECK(form_param(body, "Message") == std::string(256 * 1024, '0'));
  CHECK(form_param(body, "MessageAttributes.entry.1.Name") == "truncated");
  CHECK(form_param(body, "MessageAttributes.entry.1.Value.StringValue") == "true");
}

TEST_CASE("sns: a target ARN with templated attributes, in key order") {
  TestServer server;
  SnsRun run = run_sns(server, fmt::format("    target_arn: arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/1\n"
                                           "    message: hello\n"
                                           "    attributes:\n      team: ops\n"
                                           "      severity: '{{{{ .CommonLabels.severity }}}}'\n{}",
                                           kCreds));
  REQUIRE_MESSAGE(run.outcome.delivered, run.outcome.error);
  REQUIRE(run.requests.size() == 1);
  CHECK(run.requests[0].body.starts_with(
      "Action=Publish&Message=hello"
      "&MessageAttributes.entry.1.Name=severity&MessageAttributes.entry.1.Value.DataType=String"
      "&MessageAttributes.entry.1.Value.StringValue=critical"
      "&MessageAttributes.entry.2.Name=team&MessageAttributes.entry.2.Value.DataType=String"
      "&MessageAttributes.entry.2.Value.StringValue=ops&Subject="));
  CHECK(run.requests[0].body.ends_with(
      "&TargetArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aendpoint%2FAPNS%2Fapp%2F1&Version=2010-03-31"));
}

TEST_CASE("sns: a FIFO topic gets the group key's hash as group and deduplication id") {
  TestServer server;
  SnsRun run = run_sns(server, fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts.fifo\n{}",
                                           kCreds));
  REQUIRE_MESSAGE(run.outcome.delivered, run.outcome.error);
  REQUIRE(run.requests.size() == 1);
  const std::string hash = sha256_hex("{}:{alertname=\"DiskFull\"}");
  CHECK(form_param(run.requests[0].body, "MessageGroupId") == hash);
  CHECK(form_param(run.requests[0].body, "MessageDeduplicationId") == hash);
}

TEST_CASE("sns: credentials and region from the environment, session token included") {
  TestServer server;
  Env env{{"AWS_ACCESS_KEY_ID", "AKIDENV"},
          {"AWS_SECRET_ACCESS_KEY", "env-secret"},
          {"AWS_SESSION_TOKEN", "env-token"},
          {"AWS_REGION", "us-east-1"},
          {"HOME", "/nonexistent"}};
  SnsRun run = run_sns(server, "    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n", env);
  REQUIRE_MESSAGE(run.outcome.delivered, run.outcome.error);
  REQUIRE(run.requests.size() == 1);
  CHECK(run.requests[0].header("X-Amz-Security-Token") == "env-token");
  check_signed(run.requests[0], {"AKIDENV", "env-secret", "env-token"}, "sns",
               "content-type;host;x-amz-date;x-amz-security-token");
}

TEST_CASE("sns: a named profile from the shared credentials file, the region from AWS_DEFAULT_REGION") {
  TestServer server;
  std::string creds = temp_file("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n\n"
                                "[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = ops-secret\n");
  Env env{{"AWS_SHARED_CREDENTIALS_FILE", creds},
          {"AWS_CONFIG_FILE", "/nonexistent"},
          {"AWS_DEFAULT_REGION", "us-east-1"},
          // A profile named in the configuration wins over keys in the environment.
          {"AWS_ACCESS_KEY_ID", "AKIDENV"},
          {"AWS_SECRET_ACCESS_KEY", "env-secret"}};
  SnsRun run = run_sns(server, "    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
                               "    sigv4:\n      profile: ops\n", env);
  REQUIRE_MESSAGE(run.outcome.delivered, run.outcome.error);
  REQUIRE(run.requests.size() == 1);
  check_signed(run.requests[0], {"AKIDOPS", "ops-secret", ""}, "sns", "content-type;host;x-amz-date");

  SnsRun missing = run_sns(server, "    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
                                   "    sigv4:\n      profile: nope\n", env);
  CHECK_FALSE(missing.outcome.delivered);
  CHECK(missing.outcome.error.ends_with(": failed to get shared config profile, nope"));
  ::unlink(creds.c_str());
}

TEST_CASE("sns: no region anywhere fails before any request") {
  TestServer server;
  SnsRun run = run_sns(server, "    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
                               "    sigv4:\n      access_key: AKID\n      secret_key: s\n",
                       {{"HOME", "/nonexistent"}});
  CHECK_FALSE(run.outcome.delivered);
  CHECK(run.outcome.error.ends_with(": region not configured in sns.sigv4.region or in default credentials chain"));
  CHECK(run.requests.empty());
}

TEST_CASE("sns: a template error names its field") {
  TestServer server;
  SnsRun run = run_sns(server, fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
                                           "    message: '{{{{ template \"nope\" . }}}}'\n{}",
                                           kCreds));
  CHECK_FALSE(run.outcome.delivered);
  CHECK_MESSAGE(run.outcome.error.find(": execute 'message' template: ") != std::string::npos, run.outcome.error);
  CHECK(run.outcome.reason == FailureReason::kClientError);
  CHECK(run.requests.empty());
}

std::string aws_error(std::string_view code, std::string_view message) {
  return fmt::format("<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type>"
                     "<Code>{}</Code><Message>{}</Message></Error><RequestId>42</RequestId></ErrorResponse>",
                     code, message);
}

TEST_CASE("sns: AWS errors: a 4xx is final, with AWS's message") {
  TestServer server([](const Captured&, httplib::Response& res) {
    res.status = 400;
    res.set_content(aws_error("InvalidParameter", "Invalid parameter: TopicArn &amp; more"), "text/xml");
  });
  SnsRun run = run_sns(server, fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n{}", kCreds));
  CHECK_FALSE(run.outcome.delivered);
  CHECK(run.outcome.attempts == 1);
  CHECK(run.outcome.error.ends_with(": unexpected status code 400: Invalid parameter: TopicArn & more"));
  CHECK(run.outcome.reason == FailureReason::kClientError);
}

TEST_CASE("sns: AWS errors: throttling and 5xx are retried") {
  for (auto [status, code] : {std::pair{400, "Throttling"}, {500, "InternalError"}, {503, "ServiceUnavailable"}}) {
    CAPTURE(code);
    std::atomic<int> calls{0};
    TestServer server([&calls, status, code](const Captured&, httplib::Response& res) {
      if (calls++ == 0) {
        res.status = status;
        res.set_content(aws_error(code, "Rate exceeded"), "text/xml");
      } else {
        res.set_content("<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult>"
                        "</PublishResponse>",
                        "text/xml");
      }
    });
    SnsRun run = run_sns(server, fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n{}", kCreds));
    CHECK_MESSAGE(run.outcome.delivered, run.outcome.error);
    CHECK(run.outcome.attempts == 2);
  }
}

TEST_CASE("sns: role_arn: AssumeRole through STS, signed with the base keys, its answer reused") {
  const std::string expires = format_rfc3339(kT0 + kHour);
  TestServer server([&expires](const Captured& c, httplib::Response& res) {
    if (c.body.find("Action=AssumeRole") != std::string::npos) {
      res.set_content(fmt::format("<AssumeRoleResponse><AssumeRoleResult><Credentials>"
                                  "<AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>"
                                  "<SessionToken>role-token</SessionToken><Expiration>{}</Expiration>"
                                  "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
                                  expires),
                      "text/xml");
    } else {
      res.set_content("<PublishResponse/>", "text/xml");
    }
  });
  SnsRun run = run_sns(server, fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n{}"
                                           "      role_arn: arn:aws:iam::123456789012:role/alerts\n"
                                           "      external_id: ext-1\n",
                                           kCreds),
                       {}, two_alerts(), 2);
  REQUIRE_MESSAGE(run.outcome.delivered, run.outcome.error);
  REQUIRE(run.requests.size() == 3);  // one AssumeRole, two Publish
  const Captured& sts = run.requests[0];
  CHECK(form_param(sts.body, "Action") == "AssumeRole");
  CHECK(form_param(sts.body, "Version") == "2011-06-15");
  CHECK(form_param(sts.body, "RoleArn") == "arn:aws:iam::123456789012:role/alerts");
  CHECK(form_param(sts.body, "ExternalId") == "ext-1");
  CHECK(form_param(sts.body, "DurationSeconds") == "900");
  CHECK(!form_param(sts.body, "RoleSessionName").empty());
  check_signed(sts, kConfigCreds, "sts", "content-type;host;x-amz-date");
  for (size_t i : {1, 2}) {
    CHECK(form_param(run.requests[i].body, "Action") == "Publish");
    CHECK(run.requests[i].header("X-Amz-Security-Token") == "role-token");
    check_signed(run.requests[i], {"ASIAROLE", "role-secret", "role-token"}, "sns",
                 "content-type;host;x-amz-date;x-amz-security-token");
  }
}

TEST_CASE("sns: role_arn: an STS refusal is final and says so") {
  TestServer server([](const Captured&, httplib::Response& res) {
    res.status = 403;
    res.set_content(aws_error("AccessDenied", "not allowed to assume"), "text/xml");
  });
  SnsRun run = run_sns(server, fmt::format("    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n{}"
                                           "      role_arn: arn:aws:iam::123456789012:role/alerts\n",
                                           kCreds));
  CHECK_FALSE(run.outcome.delivered);
  CHECK(run.outcome.attempts == 1);
  CHECK(run.outcome.error.ends_with(
      ": assume role arn:aws:iam::123456789012:role/alerts: unexpected status code 403: not allowed to assume"));
  CHECK(run.outcome.reason == FailureReason::kAuthError);
}

TEST_CASE("sns: query helpers: endpoints, the default endpoint, XML text") {
  auto ep = net::aws::parse_endpoint("https://sns.us-east-1.amazonaws.com:443");
  REQUIRE(ep);
  CHECK(ep->host == "sns.us-east-1.amazonaws.com");
  CHECK(ep->path == "/");
  ep = net::aws::parse_endpoint("http://127.0.0.1:4566/proxy/sns?x=1");
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1:4566");
  CHECK(ep->path == "/proxy/sns");
  CHECK(ep->query == "x=1");
  CHECK_FALSE(net::aws::parse_endpoint("sns.example"));
  CHECK(net::aws::default_endpoint("sns", "eu-west-1") == "https://sns.eu-west-1.amazonaws.com");
  CHECK(net::aws::default_endpoint("sns", "cn-north-1") == "https://sns.cn-north-1.amazonaws.com.cn");
  CHECK(net::aws::xml_text("<a><M>x &lt;y&gt; &#233;</M></a>", "M") == "x <y> \xC3\xA9");
  CHECK(net::aws::form_encode({{"b", "a b"}, {"a", "~*"}}) == "a=~%2A&b=a+b");
}

}  // namespace
}  // namespace vigil::notifiers::testing
