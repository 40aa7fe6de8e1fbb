// Remote write bodies (the protobuf WriteRequest, after snappy): any input
// is refused or read, never a crash; a histogram that reads back is well
// formed enough for the engine to walk its buckets, and survives vigil's
// own encoding unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "storage/remote_protocol.h"

using namespace vigil;
using namespace vigil::storage;

namespace {

bool same_bits(double a, double b) { return a == b || (a != a && b != b); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs each label that is not UTF-8; the parse fails either way.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  remote::WriteRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (const remote::TimeSeries& ts : req.timeseries()) {
    (void)labels_of(ts);
    for (const remote::Histogram& m : ts.histograms()) {
      auto h = histogram_of(m);
      if (!h) {
        if (h.error().message.empty()) std::abort();
        continue;
      }
      double total = h->zero_count;
      for (const HistogramBucket& b : h->buckets()) total += b.count;
      (void)total;
      remote::Histogram again;
      set_histogram(again, *h, m.timestamp());
      auto back = histogram_of(again);
      if (!back || back->schema != h->schema || !same_bits(back->count, h->count) ||
          !same_bits(back->sum, h->sum) || back->positive_spans != h->positive_spans ||
          back->negative_spans != h->negative_spans || back->positive_buckets.size() != h->positive_buckets.size() ||
          back->custom_values != h->custom_values || back->hint != h->hint || again.timestamp() != m.timestamp())
        std::abort();
    }
  }
  return 0;
}
