#pragma once

// The scraper of vigil's embedded mode: pulls the targets of prometheus.yml's
// scrape_configs into the in-memory store, as Prometheus' scrape manager does.
//
// Targets come from static_configs, file_sd_configs (JSON or YAML files,
// re-read every refresh_interval and whenever a file's modification time or
// size changes; a file that fails to load keeps its previous targets and its
// error is shown), dns_sd_configs and http_sd_configs (storage/dns_sd.h,
// storage/http_sd.h: asked every refresh_interval, on a thread of their own
// when scrapes run on workers, so that a slow source never delays a scrape,
// otherwise inside run_due(); a failed refresh keeps the previous targets and
// its error is shown). Each target starts with the labels discovery gives it
// (`__address__`, `__scheme__`, `__metrics_path__`, `__param_<name>`,
// `__scrape_interval__`, `__scrape_timeout__`, `job`, the group's labels,
// `__meta_filepath`), goes through relabel_configs, gets `instance` from
// `__address__` when unset, and loses every `__`-prefixed label. Targets
// relabeling drops are kept, with their discovered labels, for the targets API.
//
// Each target is scraped every interval at a stable offset within it (a hash
// of the target), with the job's timeout. A scrape's samples get the target's
// labels (honor_labels: on conflict the scraped value wins; otherwise it is
// kept as exported_<name>), timestamps from the body only with
// honor_timestamps, then metric_relabel_configs, then sample_limit (more
// samples fail the scrape). Each scrape also writes `up`,
// `scrape_duration_seconds`, `scrape_samples_scraped`,
// `scrape_samples_post_metric_relabeling` and `scrape_series_added` (series
// the target did not expose in its previous scrape), and a
// staleness marker for every series the target exposed last time but not
// this time; a failed scrape, or a target that goes away, marks all of them.
// Series exposed with their own timestamps (honored) get no markers. A job
// with more targets than its target_limit scrapes none of them; each shows
// the error.
// Samples that arrive out of order or repeat a timestamp with another value
// are counted and skipped; the rest of the scrape is kept.
//
// Bodies are asked for and read as Prometheus 3.x does (storage/
// scrape_protocol.h): the Accept header lists the job's scrape_protocols,
// the response's Content-Type picks the text, OpenMetrics or protobuf parser
// (fallback_scrape_protocol when it is missing or unknown; otherwise the
// scrape fails). Native histograms (protobuf bodies, with
// scrape_native_histograms) and classic histograms converted to custom
// buckets (convert_classic_histograms_to_nhcb) are stored as native
// histograms, after metric relabelling like any sample: an exponential
// schema finer than native_histogram_min_bucket_factor allows is reduced,
// and one with more buckets than native_histogram_bucket_limit is reduced
// until it fits, or fails the scrape when it cannot.
//
// Each target keeps a scrape cache, as Prometheus does: the text of a line's
// metric name and label block, as written, to the series it came to (or to
// nothing, when metric relabelling dropped it) with the series' ref in the
// store. A line seen in the previous scrape costs a lookup and an append: its
// labels are not parsed, relabelled or built again. A successful scrape drops
// what it did not see; a reload drops every target's texts, keeping the
// staleness tracking.
//
// Time is injected: a daemon loop calls run_due() when next_due() says so.
// With `workers == 0` scrapes run inside run_due(), one after another (tests
// drive everything with a ManualClock); otherwise they run on a small pool and
// wait_idle() waits for them.
//
// The store is not thread-safe: the manager takes `store_mu` exclusively only
// while it appends one scrape's samples (and to truncate), so queries holding
// it shared see whole scrapes. Callers must not call the manager while they
// hold `store_mu`: the manager takes its own lock first, then the store's.
// apply(), run_due() and stop() are called from one thread (the daemon
// loop); the introspection methods from any.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "config/prometheus_config.h"
#include "model/clock.h"
#include "model/duration.h"
#include "model/error.h"
#include "model/labels.h"
#include "model/metrics_writer.h"
#include "net/http_client.h"
#include "storage/dns_sd.h"
#include "storage/memory_store.h"

namespace vigil::net {
class WorkerPool;
}

namespace vigil::storage {

struct ScrapeOptions {
  size_t workers = 0;                        // 0: scrape synchronously inside run_due()
  size_t max_body = size_t{64} << 20;        // larger responses fail the scrape (unless body_size_limit says)
  Millis file_sd_poll = 5 * kSecond;         // how often file_sd files are checked for changes
  // dns_sd_configs' lookups (null: the system's) and http_sd_configs'
  // requests (null: each config's own HTTP client); tests inject both.
  std::shared_ptr<Resolver> resolver = nullptr;
  std::function<Result<net::HttpResponse>(const net::HttpRequest&)> http_sd_fetch = nullptr;
};

enum class TargetHealth { kUnknown, kUp, kDown };
std::string_view target_health_name(TargetHealth h);  // "unknown", "up", "down"

// One active target, as /api/v1/targets shows it.
struct TargetStatus {
  std::string scrape_pool;  // the job name
  std::string scrape_url;
  std::string global_url;   // scrape_url with a loopback host replaced by this host's name
  Labels labels;            // after relabeling: what every sample of the target carries
  Labels discovered_labels; // before relabeling
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  Millis last_scrape = 0;           // start of the last scrape (Unix ms); 0: never scraped
  Millis last_scrape_duration = 0;  // ms
  Millis scrape_interval = 0;
  Millis scrape_timeout = 0;
};

// A target relabeling dropped (or that had no usable address).
struct DroppedTarget {
  std::string scrape_pool;
  Labels discovered_labels;
};

// A problem with one file_sd file, DNS name set or HTTP SD URL (the
// previous targets stay).
struct DiscoveryError {
  std::string scrape_pool;
  std::string file;
  std::string message;
};

class ScrapeManager {
 public:
  ScrapeManager(storage::MemoryStore& store, std::shared_mutex& store_mu, const Clock& clock,
                ScrapeOptions options = {});
  ~ScrapeManager();
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Starts scraping the jobs of `config`, replacing what was configured
  // before (a reload). Targets whose job, labels and URL are unchanged keep
  // their schedule, health and staleness tracking; targets that are gone get
  // staleness markers. Jobs whose HTTP options cannot be built are skipped;
  // the returned errors name them.
  std::vector<Error> apply(const config::PrometheusConfig& config);

  // When run_due() has work next: the earliest due scrape or discovery
  // refresh; nullopt when nothing is configured.
  std::optional<Millis> next_due() const;
  // Starts every scrape (and discovery refresh) due at clock.now(); returns
  // how many scrapes it started.
  size_t run_due();
  // Waits until no scrape is running (immediate when synchronous).
  void wait_idle();
  // Waits until no DNS or HTTP discovery is being asked (immediate when
  // scrapes are synchronous).
  void wait_discovery_idle();
  // Stops: waits for running scrapes and writes staleness markers for every
  // target, as if the configuration had become empty.
  void stop();

  std::vector<TargetStatus> active_targets() const;
  std::vector<DroppedTarget> dropped_targets() const;
  std::vector<DiscoveryError> discovery_errors() const;

  // The scrape caches: lines found in them and lines whose labels were read
  // (since the manager was made); series texts and series held now.
  struct CacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t texts = 0;
    size_t series = 0;
  };
  CacheStats cache_stats() const;

  // Drops samples older than clock.now() - keep from the store.
  void truncate(Millis keep);

  // The scraper's own counters in the Prometheus text format:
  //   prometheus_target_scrape_pool_targets{scrape_job}         gauge: active targets
  //   prometheus_target_scrape_pool_dropped_targets{scrape_job} gauge: targets relabeling dropped
  //   vigil_target_scrapes_total{scrape_job}                    counter: scrapes finished
  //   vigil_target_scrapes_failed_total{scrape_job}             counter: scrapes that failed
  //   prometheus_target_scrapes_exceeded_sample_limit_total     counter
  //   prometheus_target_scrapes_exceeded_body_size_limit_total  counter
  //   prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total  counter
  //   prometheus_target_scrapes_sample_out_of_order_total       counter
  //   prometheus_target_scrapes_sample_duplicate_timestamp_total counter
  //   prometheus_sd_file_read_errors_total                      counter
  //   vigil_target_scrape_cache_hits_total, vigil_target_scrape_cache_misses_total  counters
  //   prometheus_sd_dns_lookups_total, prometheus_sd_dns_lookup_failures_total, prometheus_sd_http_failures_total
  void write_metrics(MetricsWriter& w) const;

 private:
  struct Pool;
  struct Target;

  void scrape(const std::shared_ptr<Pool>& pool, const std::shared_ptr<Target>& t, Millis start, Millis timeout);
  // Re-reads file_sd files that are due or changed, asks DNS and HTTP
  // discoveries that are due; true when targets changed.
  // With workers, DNS and HTTP discoveries are asked on their own thread
  // (not when `force`d: a reload waits for them); their answers sync the
  // targets when they come.
  bool refresh_discovery(const std::shared_ptr<Pool>& pool, Millis now, bool force);
  void sync_targets(Pool& pool, Millis now);
  // Keeps the discovery counters of a pool that a reload replaces.
  void add_sd_counts(const Pool& pool);
  void mark_stale(Target& t, Millis at);

  storage::MemoryStore& store_;
  std::shared_mutex& store_mu_;
  const Clock& clock_;
  ScrapeOptions options_;
  mutable std::mutex mu_;  // pools, targets, statuses, counters
  std::map<std::string, std::shared_ptr<Pool>> pools_;
  struct Counters;
  std::unique_ptr<Counters> counters_;
  std::unique_ptr<net::WorkerPool> workers_;
  std::unique_ptr<net::WorkerPool> sd_workers_;  // DNS and HTTP discovery, with workers
};

// vigil_store_series, vigil_store_samples, the series limit and its
// refusals, and the retention when given (the caller holds the store's lock).
void write_store_metrics(MetricsWriter& w, const MemoryStore& store, Millis retention = 0);

}  // namespace vigil::storage
