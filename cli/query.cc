// vigil query instant|range|series|labels: promtool's query commands.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "config/http_config.h"
#include "config/schema.h"
#include "model/duration.h"
#include "model/file.h"
#include "model/yaml.h"
#include "rules/api_query.h"

namespace vigil::cli {
namespace {

struct QueryOptions {
  rules::ApiQuery q;
  std::string format = "promql";
  std::string http_config_file;
  std::vector<std::string> headers;
  std::string time, start, end, step;
};

// --http.config.file: an http_config as Prometheus' files write it.
Result<config::ConfigValue> load_http_config(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto doc = parse_yaml(*text);
  if (!doc) return std::unexpected(doc.error());
  std::vector<Error> errors;
  config::SchemaDecoder dec(*doc, errors);
  config::ConfigValue v = doc->root() ? dec.object(*doc->root(), config::http_config_spec())
                                      : config::SchemaDecoder::defaults(config::http_config_spec());
  if (errors.empty()) config::check_http_config(v, errors);
  if (!errors.empty()) return std::unexpected(errors.front());
  return v;
}

int run(QueryOptions& o) {
  auto bad = [](const std::string& msg) {
    std::cerr << msg << "\n";
    return 1;
  };
  if (o.format != "promql" && o.format != "json") return bad("unknown format " + o.format + " (promql or json)");
  o.q.json = o.format == "json";
  for (auto [flag, text, into] : {std::tuple{"time", &o.time, &o.q.time}, std::tuple{"start", &o.start, &o.q.start},
                                  std::tuple{"end", &o.end, &o.q.end}}) {
    if (text->empty()) continue;
    auto t = rules::parse_query_time(*text);
    if (!t) return bad(std::string("error parsing ") + flag + " time: cannot parse \"" + *text + "\" to a valid timestamp");
    *into = *t;
  }
  if (!o.step.empty()) {
    auto d = parse_duration(o.step);
    if (!d) return bad("error parsing step: " + d.error().message);
    o.q.step_seconds = static_cast<double>(*d) / 1000;
  }
  for (const auto& h : o.headers) {
    auto eq = h.find('=');
    if (eq == std::string::npos) return bad("expected KEY=VALUE got '" + h + "'");
    o.q.headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));
  }
  config::ConfigValue http;
  if (!o.http_config_file.empty()) {
    auto c = load_http_config(o.http_config_file);
    if (!c) return bad("error loading HTTP config file: " + c.error().message);
    http = *c;
    o.q.http_config = &http;
  }
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return rules::run_api_query(o.q, now, std::cout, std::cerr);
}

CLI::App* add(CLI::App& parent, const char* name, const char* help, rules::ApiQuery::Kind kind, int* exit_code) {
  auto o = std::make_shared<QueryOptions>();
  o->q.kind = kind;
  auto* cmd = parent.add_subcommand(name, help);
  cmd->add_option("server", o->q.server, "Prometheus server to query")->required();
  if (kind == rules::ApiQuery::Kind::kInstant || kind == rules::ApiQuery::Kind::kRange) {
    cmd->add_option("expr", o->q.expr, "PromQL query expression")->required();
  }
  if (kind == rules::ApiQuery::Kind::kLabels) cmd->add_option("name", o->q.label, "Label name")->required();
  cmd->add_option("-o,--format", o->format, "Output format of the query: promql or json")->default_str("promql");
  cmd->add_option("--http.config.file", o->http_config_file,
                  "HTTP client configuration file (http_config's fields) to connect with");
  cmd->add_option("--header", o->headers, "Extra headers to send to the server, KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  switch (kind) {
    case rules::ApiQuery::Kind::kInstant:
      cmd->add_option("--time", o->time, "Query evaluation time (RFC3339 or Unix timestamp); default now");
      break;
    case rules::ApiQuery::Kind::kRange:
      cmd->add_option("--start", o->start, "Query range start time (RFC3339 or Unix timestamp); default end - 5m");
      cmd->add_option("--end", o->end, "Query range end time (RFC3339 or Unix timestamp); default now");
      cmd->add_option("--step", o->step, "Query step size (duration); default: the range / 250, at least 1s");
      break;
    case rules::ApiQuery::Kind::kSeries:
    case rules::ApiQuery::Kind::kLabels:
      cmd->add_option("--match", o->q.match, "Series selector (repeatable)")
          ->allow_extra_args(false)
          ->required(kind == rules::ApiQuery::Kind::kSeries);
      cmd->add_option("--start", o->start, "Start time (RFC3339 or Unix timestamp)");
      cmd->add_option("--end", o->end, "End time (RFC3339 or Unix timestamp)");
      break;
  }
  cmd->callback([o, exit_code] { *exit_code = run(*o); });
  return cmd;
}

}  // namespace

void register_query(CLI::App& app, int* exit_code) {
  auto* query = app.add_subcommand(
      "query", "Run queries against a Prometheus-compatible server, as promtool query does (same output).");
  query->require_subcommand(1);
  add(*query, "instant", "Run an instant query.", rules::ApiQuery::Kind::kInstant, exit_code);
  add(*query, "range", "Run a range query.", rules::ApiQuery::Kind::kRange, exit_code);
  add(*query, "series", "Find series by label matchers.", rules::ApiQuery::Kind::kSeries, exit_code);
  add(*query, "labels", "List the values of a label.", rules::ApiQuery::Kind::kLabels, exit_code);
}

}  // namespace vigil::cli
