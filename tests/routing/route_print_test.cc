// Output recorded from amtool 0.25 (`amtool config routes show/test`,
// `amtool check-config`) on upstream's CLI test configs.
#include <doctest/doctest.h>

#include <sstream>

#include "routing/check_config.h"
#include "routing/config.h"
#include "routing/route.h"
#include "routing/route_print.h"
#include "routing/route_tests.h"
#include "tests/temp_dir.h"
#include "tests/shared_corpus.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

const std::string kCli = std::string(VIGIL_SHARED_DIR) + "/conformance/alertmanager/cli/";
const std::string kConfig = std::string(VIGIL_SHARED_DIR) + "/conformance/alertmanager/config/";

std::unique_ptr<Route> load_tree(const std::string& path) {
  LoadResult r = load_config(path);
  REQUIRE(r.ok());
  return Route::build(r.config.route);
}

}  // namespace

TEST_CASE("route print: the whole tree as amtool draws it") {
  VIGIL_NEEDS_SHARED();
  CHECK(format_route_tree(*load_tree(kCli + "conf.routing.yml")) ==
        ".\n"
        "└── default-route  receiver: default\n"
        "    ├── {test=~\"^(?:^[12]$)$\"}  continue: true  receiver: test1\n"
        "    └── {test=\"2\"}  receiver: test2\n");
  CHECK(format_route_tree(*load_tree(kConfig + "conf.good.yml")) ==
        ".\n"
        "└── default-route  receiver: team-X-mails\n"
        "    ├── {service=~\"^(?:^(foo1|foo2|baz)$)$\"}  receiver: team-X-mails\n"
        "    │   └── {severity=\"critical\"}  receiver: team-X-pager\n"
        "    ├── {service=\"files\"}  receiver: team-Y-mails\n"
        "    │   └── {severity=\"critical\"}  receiver: team-Y-pager\n"
        "    └── {service=\"database\"}  receiver: team-DB-pager\n"
        "        ├── {owner2=\"team-X\"}  continue: true  receiver: team-X-pager\n"
        "        └── {owner=\"team-Y\"}  receiver: team-Y-pager\n");
}

TEST_CASE("route print: the matching routes of an alert") {
  VIGIL_NEEDS_SHARED();
  auto root = load_tree(kCli + "conf.routing.yml");
  CHECK(format_matching_tree(*root, Labels{{"test", "1"}}) ==
        ".\n"
        "└── default-route\n"
        "    └── {test=~\"^(?:^[12]$)$\"}  receiver: test1\n");
  CHECK(format_matching_tree(*root, Labels{{"test", "2"}}) ==
        ".\n"
        "└── default-route\n"
        "    ├── {test=~\"^(?:^[12]$)$\"}  receiver: test1\n"
        "    └── {test=\"2\"}  receiver: test2\n");
  CHECK(format_matching_tree(*root, Labels{}) == ".\n└── default-route  receiver: default\n");
}

TEST_CASE("check config: amtool's output shape") {
  VIGIL_NEEDS_SHARED();
  std::istringstream in;
  std::ostringstream out, err;
  int rc = check_config({kCli + "conf.good.yml"}, {}, in, out, err);
  CHECK(rc == 0);
  CHECK(out.str() == "Checking '" + kCli + "conf.good.yml'  SUCCESS\nFound:\n - global config\n"
                     " - route\n - 0 inhibit rules\n - 1 receivers\n - 1 templates\n  SUCCESS\n\n");
  std::ostringstream out2, err2;
  rc = check_config({kCli + "conf.bad.yml"}, {}, in, out2, err2);
  CHECK(rc == 1);
  CHECK(out2.str() == "Checking '" + kCli + "conf.bad.yml'  FAILED: " + kCli +
                          "conf.bad.yml:1:1: cannot unmarshal !!str `BAD` into config.plain\n\n");
  CHECK(err2.str() == "vigil: error: failed to validate 1 file(s)\n");
  std::istringstream stdin_text("route:\n  receiver: x\n");
  std::ostringstream out3, err3;
  CHECK(check_config({}, {}, stdin_text, out3, err3) == 1);
  CHECK(out3.str() == "Checking '/dev/stdin'  FAILED: /dev/stdin:2:13: undefined receiver \"x\" used in route\n\n");
}

TEST_CASE("check config: template files must parse, as amtool checks them") {
  vigil::testing::TempDir dir("vigil-check-templates");
  const std::string cfg = dir.write("am.yml", "route:\n  receiver: r\nreceivers:\n- name: r\ntemplates:\n- " +
                                                  (dir.path() / "*.tmpl").string() + "\n");
  dir.write("bad.tmpl", "{{ define \"x\" }}{{ .Foo }\n");
  std::istringstream in;
  std::ostringstream out, err;
  CHECK(check_config({cfg}, {}, in, out, err) == 1);
  // amtool 0.25 prints exactly this for the same files.
  CHECK(out.str() == "Checking '" + cfg + "'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n"
                     " - 1 receivers\n - 1 templates\n  FAILED: template: bad.tmpl:1: unexpected \"}\" in operand\n\n");
  CHECK(err.str() == "vigil: error: failed to validate 1 file(s)\n");
  dir.write("bad.tmpl", "{{ define \"x\" }}{{ .Foo }}{{ end }}\n");
  std::ostringstream out2, err2;
  CHECK(check_config({cfg}, {}, in, out2, err2) == 0);
}

TEST_CASE("route tests: passing and failing files") {
  RouteTestOptions opts;
  std::ostringstream out, err;
  CHECK(run_route_tests({std::string(VIGIL_SOURCE_DIR) + "/examples/bot-core/alertmanager/routes_test.yml"},
                        opts, out, err) == 0);
  CHECK(out.str().find("  SUCCESS") != std::string::npos);
  std::ostringstream out2, err2;
  CHECK(run_route_tests({std::string(VIGIL_SOURCE_DIR) + "/tests/routing/testdata/routes_test_failing.yml"},
                        opts, out2, err2) == 1);
  CHECK(err2.str() ==
        "  FAILED:\n"
        "    wrong receiver (line 4):\n"
        "      receivers: expected [pagerduty], got [slack]\n\n"
        "    not inhibited (line 7):\n"
        "      inhibited: expected true, got false (inhibited by [])\n\n");
}
