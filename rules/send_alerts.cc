// alerts_to_send (rules/manager.h): a group's alerts as they are sent.
#include "net/url.h"
#include "rules/manager.h"

namespace vigil::rules {

std::vector<routing::Alert> alerts_to_send(const GroupAlerts& g, const SendOptions& opts) {
  std::vector<routing::Alert> out;
  out.reserve(g.alerts.size());
  for (size_t i = 0; i < g.alerts.size(); ++i) {
    const OutgoingAlert& o = g.alerts[i];
    LabelsBuilder b(o.labels);
    for (const auto& l : opts.external_labels) {
      if (o.labels.get(l.name).empty()) b.set(l.name, l.value);
    }
    Labels labels = b.build();
    if (!opts.relabel.empty()) {
      auto r = config::relabel(labels, opts.relabel);
      if (!r) continue;  // dropped
      labels = std::move(*r);
    }
    routing::Alert a;
    a.labels = std::move(labels);
    a.annotations = o.annotations;  // the same shared set
    a.starts_at = o.starts_at;
    a.ends_at = o.ends_at;
    a.generator_url = opts.external_url + "/graph?g0.expr=" + net::url_query_escape(g.exprs[i]) + "&g0.tab=1";
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace vigil::rules
