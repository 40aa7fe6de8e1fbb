#include <doctest/doctest.h>

#include "routing/config.h"
#include "routing/route.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

std::unique_ptr<Route> tree(std::string_view yaml) {
  LoadResult r = parse_config(yaml);
  REQUIRE_MESSAGE(r.ok(), (r.errors.empty() ? "" : r.errors[0].message));
  return Route::build(r.config.route);
}

std::vector<std::string> receivers(const Route& root, const Labels& ls) {
  std::vector<std::string> out;
  for (const Route* r : root.match(ls)) out.push_back(r->options().receiver);
  return out;
}

const char* kGood = R"(route:
  group_by: ['alertname', 'cluster', 'service']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 3h
  receiver: team-X-mails
  routes:
    - match_re:
        service: ^(foo1|foo2|baz)$
      receiver: team-X-mails
      routes:
        - match:
            severity: critical
          receiver: team-X-pager
    - match:
        service: files
      receiver: team-Y-mails
      routes:
        - match:
            severity: critical
          receiver: team-Y-pager
    - match:
        service: database
      receiver: team-DB-pager
      group_by: [alertname, cluster, database]
      routes:
        - match:
            owner: team-X
          receiver: team-X-pager
          continue: true
        - match:
            owner: team-Y
          receiver: team-Y-pager
receivers:
- name: team-X-mails
- name: team-X-pager
- name: team-Y-mails
- name: team-Y-pager
- name: team-DB-pager
)";

}  // namespace

TEST_CASE("route: depth-first, first match wins unless continue") {
  auto root = tree(kGood);
  CHECK(receivers(*root, {{"service", "foo1"}}) == std::vector<std::string>{"team-X-mails"});
  CHECK(receivers(*root, {{"service", "foo1"}, {"severity", "critical"}}) ==
        std::vector<std::string>{"team-X-pager"});
  CHECK(receivers(*root, {{"service", "files"}, {"severity", "critical"}}) ==
        std::vector<std::string>{"team-Y-pager"});
  // continue: the next sibling is tried too; the parent is only a fallback.
  CHECK(receivers(*root, {{"service", "database"}, {"owner", "team-X"}}) ==
        std::vector<std::string>{"team-X-pager"});
  CHECK(receivers(*root, {{"service", "database"}}) == std::vector<std::string>{"team-DB-pager"});
  CHECK(receivers(*root, {{"service", "database"}, {"owner", "team-Y"}}) ==
        std::vector<std::string>{"team-Y-pager"});
  CHECK(receivers(*root, {{"service", "other"}}) == std::vector<std::string>{"team-X-mails"});
}

TEST_CASE("route: options are inherited, time intervals are not") {
  auto root = tree(R"(time_intervals:
- name: nights
  time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
route:
  receiver: a
  group_by: [alertname]
  group_wait: 10s
  labels: {team: core, tier: '1'}
  routes:
  - matchers: [x=1]
    group_interval: 1m
    mute_time_intervals: [nights]
    labels: {tier: '2'}
    routes:
    - matchers: [y=1]
      receiver: b
      group_by: ['...']
receivers: [{name: a}, {name: b}]
)");
  const Route& child = *root->routes()[0];
  const Route& grandchild = *child.routes()[0];
  CHECK(root->options().repeat_interval == 4 * kHour);
  CHECK(child.options().group_wait == 10 * kSecond);
  CHECK(child.options().group_interval == kMinute);
  CHECK(child.options().mute_time_intervals == std::vector<std::string>{"nights"});
  CHECK(child.options().labels == std::vector<Label>{{"team", "core"}, {"tier", "2"}});
  CHECK(grandchild.options().receiver == "b");
  CHECK(grandchild.options().group_interval == kMinute);
  CHECK(grandchild.options().mute_time_intervals.empty());
  CHECK(grandchild.options().group_by_all);
  CHECK(grandchild.group_labels(Labels{{"a", "1"}, {"b", "2"}}) == Labels{{"a", "1"}, {"b", "2"}});
  CHECK(child.group_labels(Labels{{"alertname", "X"}, {"b", "2"}}) == Labels{{"alertname", "X"}});
  // Children are numbered before their parents, as upstream.
  CHECK(grandchild.index() == 0);
  CHECK(child.index() == 1);
  CHECK(root->index() == 2);
  CHECK(root->route_count() == 3);
}

TEST_CASE("route: keys and IDs as upstream builds them") {
  auto root = tree(kGood);
  const Route& db = *root->routes()[2];
  CHECK(root->key() == "{}");
  CHECK(db.key() == "{}/{service=\"database\"}");
  CHECK(db.routes()[1]->key() == "{}/{service=\"database\"}/{owner=\"team-Y\"}");
  CHECK(db.routes()[1]->id() == "{}/{service=\"database\"}/2/{owner=\"team-Y\"}/1");
  CHECK(root->routes()[0]->key() == "{}/{service=~\"^(?:^(foo1|foo2|baz)$)$\"}");
}
