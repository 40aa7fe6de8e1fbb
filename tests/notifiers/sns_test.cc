// SigV4 against AWS's published signing test suite.

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "model/timestamp.h"
#include "net/sigv4.h"
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

}  // namespace
}  // namespace vigil::notifiers::testing
