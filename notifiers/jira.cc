#include "notifiers/jira.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "model/yaml.h"
#include "templates/unicode.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;

namespace {

// Jira's limits, in characters.
constexpr size_t kMaxSummaryRunes = 255;
constexpr size_t kMaxDescriptionRunes = 32767;

// ---- URLs, as Go's net/url takes them apart and joins paths ----

struct UrlParts {
  std::string_view origin;  // scheme://authority
  std::string_view path;
  std::string_view rest;  // ?query#fragment
};

UrlParts split_url(std::string_view u) {
  size_t scheme = u.find("://");
  size_t path_at = u.find_first_of("/?#", scheme == std::string_view::npos ? 0 : scheme + 3);
  if (path_at == std::string_view::npos) path_at = u.size();
  size_t rest_at = u.find_first_of("?#", path_at);
  if (rest_at == std::string_view::npos) rest_at = u.size();
  return {u.substr(0, path_at), u.substr(path_at, rest_at - path_at), u.substr(rest_at)};
}

// The host (and port) of a URL, without user information.
std::string_view url_host(std::string_view u) {
  std::string_view origin = split_url(u).origin;
  if (size_t s = origin.find("://"); s != std::string_view::npos) origin.remove_prefix(s + 3);
  if (size_t at = origin.rfind('@'); at != std::string_view::npos) origin.remove_prefix(at + 1);
  return origin;
}

// `elem` appended to the URL's path with one slash between, repeated and
// trailing slashes dropped, as URL.JoinPath does ("." and ".." are not
// resolved: API paths do not use them).
std::string join_path(std::string_view u, std::string_view elem) {
  UrlParts p = split_url(u);
  std::string joined = std::string(p.path) + "/" + std::string(elem), path;
  for (char c : joined)
    if (c != '/' || path.empty() || path.back() != '/') path += c;
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  return std::string(p.origin) + path + std::string(p.rest);
}

// ---- JSON ----

// Raw JSON as Go re-encodes a json.RawMessage: whitespace outside strings
// dropped, HTML characters escaped; the rest kept byte for byte.
std::string compact_json(std::string_view raw) {
  std::string out;
  bool in_string = false, escaped = false;
  for (char c : raw) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      continue;
    } else if (c == '"') {
      in_string = true;
    }
    out += c;
  }
  return go_escape_json(out);
}

// A number as Go's JSON writes a float64: integral values without ".0".
nlohmann::json go_number(double d) {
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15) return static_cast<int64_t>(d);
  if (!std::isfinite(d)) return nullptr;
  return d;
}

// A YAML node as Go's yaml.v2 decodes it into `any`, maps with string keys
// only (upstream drops the others). The core schema resolves scalars, so
// YAML 1.1 words such as "yes" stay strings here.
nlohmann::json from_yaml(const YamlDocument& d, const YamlNode& n) {
  const std::string tag = d.resolved_tag(n);
  if (tag == "!!null") return nullptr;
  if (tag == "!!seq") {
    nlohmann::json out = nlohmann::json::array();
    for (const YamlNode* c : d.children(n)) out.push_back(from_yaml(d, *c));
    return out;
  }
  if (tag == "!!map") {
    nlohmann::json out = nlohmann::json::object();
    auto cs = d.children(n);
    for (size_t i = 0; i + 1 < cs.size(); i += 2)
      if (d.resolved_tag(*cs[i]) == "!!str") out[std::string(d.value(*cs[i]))] = from_yaml(d, *cs[i + 1]);
    return out;
  }
  const std::string_view v = d.value(n);
  if (tag == "!!bool") return v[0] == 't' || v[0] == 'T';
  if (tag == "!!int")
    if (auto i = yaml_int(v)) return *i;
  if (tag == "!!float") return go_number(std::strtod(std::string(v).c_str(), nullptr));
  return std::string(v);
}

// A custom field's value with every string rendered, as upstream's
// DeepCopyWithTemplate: a rendered string that reads as YAML structure
// (a number, list, map, null, ...) becomes that structure; "" becomes null.
// Keys of nested maps are rendered too; objects come out sorted by key, as
// Go marshals maps.
nlohmann::json templated(Renderer& r, const ConfigValue& v) {
  using Kind = ConfigValue::Kind;
  switch (v.kind()) {
    case Kind::Null: return nullptr;
    case Kind::Bool: return v.as_bool();
    case Kind::Int: return v.as_int();
    case Kind::Float: return go_number(v.as_float());
    case Kind::String: {
      std::string s = r.text(v.as_string());
      auto doc = parse_yaml(s);
      if (!doc) return s;
      const YamlNode* root = doc->root();
      if (root == nullptr) return nullptr;
      if (doc->resolved_tag(*root) == "!!str") return s;
      return from_yaml(*doc, *root);
    }
    case Kind::List: {
      nlohmann::json out = nlohmann::json::array();
      for (const ConfigValue& item : v.items()) out.push_back(templated(r, item));
      return out;
    }
    case Kind::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, item] : v.entries()) out[r.text(k)] = templated(r, item);
      return out;
    }
  }
  return nullptr;
}

std::string go_json_sorted(const nlohmann::json& v) {
  return go_json_value(Json::parse(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

// The template of `summary` or `description` (a string, or a map with
// `template`), and whether updates may change that field.
std::pair<std::string_view, bool> field_config(const ConfigValue& c, std::string_view name) {
  const ConfigValue* f = c.find(name);
  if (f == nullptr) return {"", true};
  if (f->kind() == ConfigValue::Kind::String) return {f->as_string(), true};
  const ConfigValue* update = f->find("enable_update");
  return {f->str("template"), update == nullptr || update->is_null() || update->as_bool()};
}

// The member at `path` of nested objects; null when one is missing.
const Json* member(const Json& j, std::initializer_list<const char*> path) {
  const Json* at = &j;
  for (const char* k : path) {
    if (!at->is_object() || !at->contains(k)) return nullptr;
    at = &(*at)[k];
  }
  return at;
}

}  // namespace

Result<std::unique_ptr<Integration>> Jira::create(const ConfigValue& settings) {
  auto j = std::make_unique<Jira>();
  if (auto ok = j->init(settings, "jira"); !ok) return std::unexpected(ok.error());
  const std::string_view api = settings.str("api_url");
  if (api.empty()) return fail("jira: no global Jira Cloud URL set");
  // Jira Cloud dropped the v2 search; Data Center has no v3 search/jql.
  const std::string_view type = settings.str("api_type");
  if (type == "cloud" || (type == "auto" && url_host(api).ends_with("atlassian.net"))) {
    j->search_url_ = join_path(api, "search/jql");
    if (size_t v2 = j->search_url_.find("/rest/api/2/"); v2 != std::string::npos)
      j->search_url_.replace(v2, 12, "/rest/api/3/");
  } else {
    j->search_url_ = join_path(api, "search");
  }
  std::string_view path = split_url(api).path;
  while (path.ends_with('/')) path.remove_suffix(1);
  j->adf_description_ = path.ends_with("/3");
  return std::unique_ptr<Integration>(std::move(j));
}

AttemptResult Jira::call(const Message& m, std::string method, std::string url, const std::string* body,
                         std::string* out) const {
  HttpRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  if (body != nullptr) req.body = *body;
  req.headers.emplace_back("Accept-Language", "en");
  req.timeout = m.time_left(0);
  req.max_body = 1 << 20;
  auto resp = exchange(m, req);
  // Upstream does not try a request again when it got no answer.
  if (!resp) return AttemptResult::permanent(resp.error().message);
  AttemptResult res = check_http(resp, m.now);
  if (res.ok && out != nullptr) *out = std::move(resp->body);
  return res;
}

std::string Jira::jql(const std::string& project, const std::string& label, bool firing) const {
  const ConfigValue& c = settings_;
  std::string q;
  // `resolution != X` alone would also drop unresolved issues (EMPTY).
  if (auto wont_fix = c.str("wont_fix_resolution"); !wont_fix.empty())
    q += fmt::format("(resolution is EMPTY or resolution != {:?}) and ", wont_fix);
  const int64_t reopen_minutes = c.num("reopen_duration") / kMinute;
  if (firing && !c.str("reopen_transition").empty() && reopen_minutes > 0)
    q += fmt::format("(resolutiondate is EMPTY OR resolutiondate >= -{}m) and ", reopen_minutes);
  else
    q += "statusCategory != Done and ";
  q += fmt::format("project={:?} and labels={:?} order by status ASC,resolutiondate DESC", project, label);
  return q;
}

Result<std::string> Jira::issue_body(Renderer& r, const std::string& label, bool update) const {
  const ConfigValue& c = settings_;
  // Rendered in upstream's order, so that the first failing field is named.
  auto failed = [&](std::string_view what) { return fail(fmt::format("{} template: {}", what, r.error()->message)); };
  const auto [summary_tmpl, summary_updates] = field_config(c, "summary");
  const auto [description_tmpl, description_updates] = field_config(c, "description");

  std::string summary = r.text(summary_tmpl);
  if (r.error()) return failed("summary");
  std::string project = r.text(c.str("project"));
  if (r.error()) return failed("project");
  std::string issue_type = r.text(c.str("issue_type"));
  if (r.error()) return failed("issue_type");
  std::map<std::string, nlohmann::json> custom;
  if (const ConfigValue* f = c.find("fields"); f && f->is_map())
    for (const auto& [k, v] : f->entries()) {
      custom[k] = templated(r, v);
      if (r.error()) return failed("fields");
    }
  summary = truncate_runes(summary, kMaxSummaryRunes);

  std::string description = truncate_runes(r.text(description_tmpl), kMaxDescriptionRunes);
  if (r.error()) return failed("description");
  std::string description_json;
  if (adf_description_) {
    description = std::string(templates::trim_space(description));
    if (!description.empty()) {
      if (!nlohmann::json::accept(description)) return fail("description template: invalid JSON for API v3");
      description_json = compact_json(description);
    }
  } else if (!description.empty()) {
    description_json = go_json_value(Json(description));
  }

  std::vector<std::string> labels;
  if (const ConfigValue* ls = c.find("labels"); ls && ls->is_list())
    for (const ConfigValue& l : ls->items()) {
      labels.push_back(r.text(l.as_string()));
      if (r.error()) return failed(fmt::format("labels[{}]", labels.size() - 1));
    }
  labels.push_back(label);
  std::sort(labels.begin(), labels.end());
  std::string priority = r.text(c.str("priority"));
  if (r.error()) return failed("priority");

  // Go marshals the fields as a map: sorted by name, custom fields winning.
  std::map<std::string, std::string> fields;
  if (!update || summary_updates) fields["summary"] = go_json_value(Json(summary));
  if (!description_json.empty() && (!update || description_updates)) fields["description"] = description_json;
  Json type = Json::object();
  if (!issue_type.empty()) type["name"] = issue_type;
  fields["issuetype"] = go_json_value(type);
  fields["labels"] = go_json_value(Json(labels));
  if (!priority.empty()) fields["priority"] = go_json_value(Json{{"name", priority}});
  fields["project"] = go_json_value(Json{{"key", project}});
  for (const auto& [k, v] : custom) fields[k] = go_json_sorted(v);

  std::string body = "{\"fields\":{";
  for (const auto& [k, v] : fields) {
    if (body.back() != '{') body += ',';
    body += go_json_value(Json(k)) + ":" + v;
  }
  return body + "}}\n";
}

AttemptResult Jira::transition(const Message& m, const Found& issue, bool firing) const {
  if (issue.key.empty() || !issue.has_status) return AttemptResult::success();
  // A firing group reopens a done issue; a resolved one resolves an open one.
  if (firing != (issue.category == "done")) return AttemptResult::success();
  const std::string name(settings_.str(firing ? "reopen_transition" : "resolve_transition"));
  if (name.empty()) return AttemptResult::success();

  const std::string url = join_path(settings_.str("api_url"), "issue/" + issue.key + "/transitions");
  std::string listed;
  if (AttemptResult res = call(m, "GET", url, nullptr, &listed); !res.ok) return res;
  Json j = Json::parse(listed, nullptr, false);
  if (j.is_discarded() || (!j.is_object() && !j.is_null()))
    return AttemptResult::permanent("cannot parse the transitions of issue " + issue.key);
  std::string id;
  bool found = false;
  if (j.is_object() && j.contains("transitions") && j["transitions"].is_array())
    for (const Json& t : j["transitions"])
      if (t.is_object() && t.value("name", Json()) == name) {
        id = t.contains("id") && t["id"].is_string() ? t["id"].get<std::string>() : "";
        found = true;
        break;
      }
  if (!found) return AttemptResult::permanent(fmt::format("can't find transition {} for issue {}", name, issue.key));
  Json ref = Json::object();
  if (!id.empty()) ref["id"] = id;
  const std::string body = go_json(Json{{"transition", ref}});
  return call(m, "POST", url, &body, nullptr);
}

AttemptResult Jira::send(const Message& m) {
  const ConfigValue& c = settings_;
  Renderer r(m.templates, m.value);
  const bool firing = m.data.status == "firing";
  const std::string label = "ALERT{" + sha256_hex(m.notification.group_key) + "}";
  auto lookup_failed = [](AttemptResult res, std::string_view why) {
    res.error = fmt::format("failed to look up existing issues: {}{}", why, res.error);
    return res;
  };

  // The group's issue, if there is one still worth touching.
  std::string project = r.text(c.str("project"));
  if (r.error())
    return lookup_failed(AttemptResult::permanent(r.error()->message), "invalid project template or value: ");
  Json search{{"fields", Json::array({"status"})}, {"jql", jql(project, label, firing)}, {"maxResults", 2}};
  const std::string search_body = go_json(search);
  std::string found_body;
  if (AttemptResult res = call(m, "POST", search_url_, &search_body, &found_body); !res.ok)
    return lookup_failed(std::move(res), "HTTP request to JIRA API: ");
  Json found_json = Json::parse(found_body, nullptr, false);
  if (found_json.is_discarded() || (!found_json.is_object() && !found_json.is_null()))
    return lookup_failed(AttemptResult::permanent("the search response is not a JSON object"), "");
  std::optional<Found> found;
  if (const Json* issues = member(found_json, {"issues"}); issues && issues->is_array() && !issues->empty()) {
    const Json& first = (*issues)[0];
    found.emplace();
    if (const Json* key = member(first, {"key"}); key && key->is_string()) found->key = key->get<std::string>();
    if (const Json* status = member(first, {"fields", "status"}); status && status->is_object()) {
      found->has_status = true;
      if (const Json* cat = member(*status, {"statusCategory", "key"}); cat && cat->is_string())
        found->category = cat->get<std::string>();
    }
  }
  // A resolved group never opens an issue.
  if (!found && !firing) return AttemptResult::success();

  auto body = issue_body(r, label, found.has_value());
  if (!body) return AttemptResult::permanent(body.error().message);
  const std::string method = found ? "PUT" : "POST";
  const std::string path = found ? "issue/" + found->key : "issue";
  if (AttemptResult res = call(m, method, join_path(c.str("api_url"), path), &*body, nullptr); !res.ok) {
    res.error = fmt::format("failed to {} request to {:?}: {}", method, path, res.error);
    return res;
  }
  return found ? transition(m, *found, firing) : AttemptResult::success();
}

}  // namespace vigil::notifiers
