// Deterministic mutation fuzzing: templates stitched from random fragments
// parse and execute to a result or an error, never a crash or a hang.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>

#include "templates/alertmanager.h"
#include "templates/prometheus.h"

using namespace vigil;
using namespace vigil::templates;

namespace {

const char* const kFragments[] = {
    "{{", "}}", "{{- ", " -}}", "{{/*", "*/}}", " ", "\n", "x", "é", ".", "$", "$x", ":=", "=", "|", "(", ")",
    ",", "\"s\"", "`r`", "'c'", "1", "-2", "1.5e3", "0x1F", "nil", "true", ".Alerts", ".Status",
    ".CommonLabels", ".Labels", ".SortedPairs", ".Receiver", "if", "else", "end", "range", "with",
    "define \"d\"", "template \"d\"", "block \"b\" .", "break", "continue", "and", "or", "not", "len",
    "index", "slice", "eq", "lt", "print", "printf \"%v%d%s\"", "html", "js", "urlquery", "call",
    "toUpper", "title", "join", "match", "reReplaceAll", "stringSlice", "date", "tz", "humanizeDuration",
    "safeHtml", "<a href=\"", "\">", "<script>", "</script>", "<!--", "-->", "<style>", "url(",
};

std::string random_template(std::mt19937& rng) {
  std::uniform_int_distribution<int> len(1, 40);
  std::uniform_int_distribution<size_t> pick(0, std::size(kFragments) - 1);
  std::string t;
  for (int i = len(rng); i > 0; --i) t += kFragments[pick(rng)];
  return t;
}

}  // namespace

TEST_CASE("random templates never crash the notification engine") {
  auto tmpl = NotificationTemplates::load({});
  REQUIRE(tmpl);
  NotificationData data = example_notification_data(go_time_from_unix(1700000000));
  Value dot = notification_value(data);
  std::mt19937 rng(20240501);
  auto start = std::chrono::steady_clock::now();
  int rendered = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string t = random_template(rng);
    auto text = tmpl->execute_text(t, dot);
    auto html = tmpl->execute_html(t, dot);
    if (text) ++rendered;
    if (!text) CHECK(text.error().message.starts_with("template: "));
    (void)html;
  }
  MESSAGE(rendered, " of 20000 random templates rendered");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(60));
}

TEST_CASE("random templates never crash the rule template expander") {
  AlertTemplateData d;
  d.labels = Labels{{"instance", "a:1"}};
  d.value = 0.5;
  d.query = [](std::string_view, Millis) -> Result<QueryResult> { return QueryResult{{Labels{{"a", "b"}}, 1}}; };
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string t = random_template(rng);
    auto r = expand_alert_template("Fuzz", t, d);
    if (!r) CHECK(r.error().message.starts_with("error "));
  }
}
