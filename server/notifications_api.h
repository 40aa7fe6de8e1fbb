#pragma once

// The notification history over HTTP (notifiers/history.h):
//
//   GET /api/v1/notifications  [receiver integration filter status outcome since until limit]
//
//   receiver     the receiver's name (exact)
//   integration  "webhook", or "webhook[1]" for one of several
//   filter       a matcher in the syntax of /api/v2/alerts' filter; several
//                are ANDed; an entry matches when one of its alerts matches
//                all of them
//   status       firing | resolved   (firing: the notification had a firing alert)
//   outcome      success | failure
//   since, until RFC 3339 or unix seconds, inclusive
//   limit        how many entries to return, newest first (default 100)
//
// 200 {"status":"success","data":{"entries":[...],"total":N}} where total
// counts every matching entry, before the limit. A bad parameter is 400
// {"status":"error","errorType":"bad_data","error":"..."} naming it.

#include "notifiers/history.h"
#include "routing/matchers.h"
#include "server/http.h"

namespace vigil::server {

struct NotificationsApiContext {
  const notifiers::NotificationHistory* history = nullptr;  // required; outlives the routes
  routing::MatcherSyntax matcher_syntax = routing::MatcherSyntax::kFallback;
};

void add_notifications_api(Routes& routes, NotificationsApiContext ctx);

// The query a request asks for, or the error naming the bad parameter.
Result<notifiers::HistoryQuery> history_query(const Request& req, routing::MatcherSyntax syntax);
// The 200 answer's body.
std::string history_json(const notifiers::HistoryPage& page);

}  // namespace vigil::server
