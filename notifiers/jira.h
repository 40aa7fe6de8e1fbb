#pragma once

// Jira: one issue per alert group, found again by the label
// ALERT{<sha256 of the group key>} that every issue vigil files carries.
//
// Each notification first searches the project for that label (the v2
// /search endpoint, or on Jira Cloud the v3 /search/jql one: `api_type`
// cloud, or auto with an *.atlassian.net host). The JQL skips done issues,
// except, when a reopen_transition and a reopen_duration are set, issues
// resolved within that duration; wont_fix_resolution keeps issues resolved
// that way out. Then:
//   - no issue: a firing group creates one (POST issue), a resolved group
//     does nothing;
//   - an issue: it is updated (PUT issue/<key>), without summary or
//     description when their `enable_update` is false; then a resolved
//     group moves an open issue through resolve_transition, a firing group
//     a done issue through reopen_transition (looked up by name in the
//     issue's transitions).
// The fields are upstream's: project, issuetype, summary (cut at 255
// characters), description (cut at 32767; when api_url is a v3 path the
// template must render Atlassian Document Format JSON, sent as is),
// labels (templated, sorted, the group label included), priority when it
// renders non-empty, and the templated custom `fields`, whose strings that
// read as YAML structure become that structure. Authentication comes from
// http_config. Retried as upstream: 5xx and 429; transport errors are not.

#include <memory>
#include <string>

#include "notifiers/integration.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

class Jira final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;

 private:
  // What a search says of the issue it found.
  struct Found {
    std::string key;
    bool has_status = false;
    std::string category;  // the status category's key: "new", "indeterminate", "done"
  };
  // One API request; a 2xx leaves the response body in `out`.
  AttemptResult call(const Message& m, std::string method, std::string url, const std::string* body,
                     std::string* out) const;
  std::string jql(const std::string& project, const std::string& label, bool firing) const;
  // The issue's "fields" for a create (or, with `update`, an update).
  Result<std::string> issue_body(Renderer& r, const std::string& label, bool update) const;
  AttemptResult transition(const Message& m, const Found& issue, bool firing) const;

  std::string search_url_;
  bool adf_description_ = false;  // api_url is a v3 path
};

}  // namespace vigil::notifiers
