#include "server/federation.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/metrics_writer.h"
#include "server/prometheus_api.h"
#include "storage/remote_protocol.h"

namespace vigil::server {
namespace {

Response bad_request(const std::string& msg) { return Response::text(400, msg + "\n"); }

// `ls` with the external labels it lacks.
Labels with_external(const Labels& ls, const Labels& external) {
  if (external.empty()) return ls;
  LabelsBuilder b(ls);
  for (LabelView e : external)
    if (!ls.has(e.name)) b.set(e.name, e.value);
  return b.build();
}

Response remote_read(const FederationContext& ctx, const Request& req) {
  auto rr = storage::decode_snappy_message<storage::remote::ReadRequest>(req.body, ctx.max_request_bytes,
                                                                         "remote read request");
  if (!rr) return bad_request(rr.error().message);
  storage::remote::ReadResponse resp;
  int64_t total = 0;
  std::vector<int64_t> ts;
  std::vector<double> vs;
  const Labels external = ctx.external_labels ? ctx.external_labels() : Labels();
  std::shared_lock lock(*ctx.store_mu);
  for (const auto& q : rr->queries()) {
    std::vector<Matcher> ms;
    bool none = false;
    for (const auto& m : q.matchers()) {
      auto got = storage::matcher_of(m);
      if (!got) return bad_request("remote read: " + got.error().message);
      // A matcher on an external label is answered by its value: the
      // store's series do not carry it.
      if (external.has(got->name())) {
        none = none || !got->matches(external.get(got->name()));
        continue;
      }
      ms.push_back(std::move(*got));
    }
    storage::remote::QueryResult* result = resp.add_results();
    if (none) continue;
    for (storage::SeriesRef ref : ctx.store->select(ms)) {
      const storage::Series& s = ctx.store->get(ref);
      ts.clear();
      vs.clear();
      // [start, end], both ends included, as Prometheus' querier reads it.
      const int64_t after = q.start_timestamp_ms() == INT64_MIN ? INT64_MIN : q.start_timestamp_ms() - 1;
      s.read(after, q.end_timestamp_ms(), ts, vs);
      // Native histogram samples in the same span go in `histograms`.
      const auto& hs = s.histograms();
      const auto h_begin = std::partition_point(hs.begin(), hs.end(), [&](const auto& h) { return h.t <= after; });
      const auto h_end =
          std::partition_point(h_begin, hs.end(), [&](const auto& h) { return h.t <= q.end_timestamp_ms(); });
      if (ts.empty() && h_begin == h_end) continue;
      total += static_cast<int64_t>(ts.size() + static_cast<size_t>(h_end - h_begin));
      if (total > ctx.max_samples)
        return bad_request(fmt::format("remote read: exceeded sample limit ({})", ctx.max_samples));
      storage::remote::TimeSeries* out = result->add_timeseries();
      storage::set_labels(*out, with_external(s.labels, external));
      for (size_t i = 0; i < ts.size(); ++i) {
        storage::remote::Sample* p = out->add_samples();
        p->set_timestamp(ts[i]);
        p->set_value(vs[i]);
      }
      for (auto h = h_begin; h != h_end; ++h) storage::set_histogram(*out->add_histograms(), *h->h, h->t);
    }
  }
  lock.unlock();
  Response r;
  r.status = 200;
  r.content_type = std::string(storage::kProtobufContentType);
  r.headers = {{"Content-Encoding", "snappy"}};
  r.body = storage::snappy_compress(resp.SerializeAsString());
  return r;
}

// One series' line: name{labels} value timestamp.
void write_line(std::string& out, const Labels& ls, double v, int64_t t) {
  out += ls.get("__name__");
  bool first = true;
  for (LabelView l : ls) {
    if (l.name == "__name__") continue;
    out += first ? '{' : ',';
    first = false;
    out += l.name;
    out += "=\"";
    out += escape_metric_label(l.value);
    out += '"';
  }
  if (!first) out += '}';
  out += ' ';
  out += format_metric_value(v);
  out += ' ';
  out += std::to_string(t);
  out += '\n';
}

Response federate(const FederationContext& ctx, const Request& req) {
  auto sels = selectors(req);
  if (!sels) return bad_request(sels.error().message);
  const int64_t now = ctx.clock->now();
  struct Latest {
    Labels labels;
    double v;
    int64_t t;
  };
  const Labels external = ctx.external_labels ? ctx.external_labels() : Labels();
  std::vector<Latest> rows;
  std::string out;
  std::shared_lock lock(*ctx.store_mu);
  std::set<storage::SeriesRef> refs;
  for (const auto& ms : *sels)
    for (auto ref : ctx.store->select(ms)) refs.insert(ref);
  for (auto ref : refs) {
    const storage::Series& s = ctx.store->get(ref);
    if (s.empty()) continue;
    // The latest sample at or before now, within the lookback.
    int64_t t = s.max_time();
    double v = s.last_value();
    if (t > now) {
      std::vector<int64_t> ts;
      std::vector<double> vs;
      s.read(now - ctx.lookback, now, ts, vs);
      if (ts.empty()) continue;
      t = ts.back();
      v = vs.back();
    }
    if (t <= now - ctx.lookback || storage::is_stale_nan(v)) continue;
    // A native histogram after it is the latest sample: the text format
    // cannot carry it, and Prometheus leaves such a series out rather than
    // fall back to an older float.
    const auto& hs = s.histograms();
    const auto h = std::partition_point(hs.begin(), hs.end(), [now](const auto& x) { return x.t <= now; });
    if (h != hs.begin() && std::prev(h)->t > t) continue;
    rows.push_back({with_external(s.labels, external), v, t});
  }
  // Grouped by metric name, each name's TYPE line first, as Prometheus writes them.
  std::stable_sort(rows.begin(), rows.end(), [](const Latest& a, const Latest& b) {
    const std::string_view an = a.labels.get("__name__"), bn = b.labels.get("__name__");
    return an != bn ? an < bn : a.labels < b.labels;
  });
  std::string_view last_name;
  bool any = false;
  for (const Latest& r : rows) {
    std::string_view name = r.labels.get("__name__");
    if (!any || name != last_name) {
      out += fmt::format("# TYPE {} untyped\n", name);
      last_name = name;
      any = true;
    }
    write_line(out, r.labels, r.v, r.t);
  }
  lock.unlock();
  Response resp = Response::text(200, std::move(out));
  resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return resp;
}

}  // namespace

void add_federation_routes(Routes& routes, FederationContext ctx) {
  auto c = std::make_shared<const FederationContext>(ctx);
  routes.add("POST", "/api/v1/read", [c](const Request& r) { return remote_read(*c, r); });
  for (const char* m : {"GET", "POST"})
    routes.add(m, "/federate", [c](const Request& r) { return federate(*c, r); });
}

}  // namespace vigil::server
