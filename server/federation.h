#pragma once

// The store served to other Prometheus servers, as Prometheus serves its own:
//   POST /api/v1/read   remote read (snappy-compressed protobuf ReadRequest,
//                       answered with raw samples, floats and native
//                       histograms, in the SAMPLES response type,
//                       whatever types the reader accepts: Prometheus' client
//                       reads the answer by its Content-Type);
//   GET/POST /federate  the latest sample of every series matching any
//                       match[] selector, within the lookback, in the text
//                       exposition format with timestamps. Whether the
//                       scraper keeps these labels is its honor_labels.
// As Prometheus, both answer with the external labels added to every series
// that lacks them, and remote read's matchers on an external label are
// matched against its value instead of the store.
// Embedded mode only: in sidecar mode the store holds no scraped series.

#include <functional>
#include <shared_mutex>

#include "model/clock.h"
#include "model/duration.h"
#include "model/labels.h"
#include "server/http.h"
#include "storage/memory_store.h"

namespace vigil::server {

struct FederationContext {
  const Clock* clock = nullptr;
  const storage::MemoryStore* store = nullptr;
  std::shared_mutex* store_mu = nullptr;
  Millis lookback = 5 * kMinute;        // /federate: how old the latest sample may be
  int64_t max_samples = 50'000'000;     // remote read: samples in one answer
  size_t max_request_bytes = 32 << 20;  // remote read: decoded request size
  // global.external_labels as loaded now (they change on reload); null: none.
  std::function<Labels()> external_labels;
};

void add_federation_routes(Routes& routes, FederationContext ctx);

}  // namespace vigil::server
