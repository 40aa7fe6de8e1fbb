#include "storage/scrape.h"
#include "net/url.h"

#include "storage/file_sd.h"
#include "storage/http_sd.h"
#include "storage/wal.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "config/relabel.h"
#include "model/file.h"
#include "model/metrics_writer.h"
#include "net/http_client.h"
#include "net/worker_pool.h"
#include "storage/exposition.h"
#include "storage/exposition_proto.h"
#include "storage/nhcb.h"
#include "storage/scrape_protocol.h"

namespace vigil::storage {

using config::AlertmanagerTargetConfig;
using config::FileSdConfig;
using config::PrometheusConfig;
using config::RelabelConfig;
using config::ScrapeConfig;
using config::StaticTargetGroup;

namespace {

HistogramOptions histogram_options(const ScrapeConfig& cfg) {
  return {cfg.scrape_native_histograms, cfg.always_scrape_classic_histograms, cfg.convert_classic_histograms_to_nhcb};
}

// The most detailed exponential schema native_histogram_min_bucket_factor
// allows: the largest whose bucket growth factor (2^2^-schema) is at least
// the factor, within -4..8.
int32_t max_schema(double min_bucket_factor) {
  if (min_bucket_factor <= 1) return 8;
  const double schema = std::floor(-std::log2(std::log2(min_bucket_factor)));
  return static_cast<int32_t>(std::clamp(schema, -4.0, 8.0));
}

// Brings a native histogram within the job's resolution and bucket limits,
// as Prometheus does before appending: an exponential schema above the
// factor's is reduced to it, then halved in resolution until the buckets
// fit the limit. False when they cannot (custom buckets, or schema -4).
bool limit_histogram(HistogramPtr& h, const ScrapeConfig& cfg) {
  std::shared_ptr<FloatHistogram> copy;
  auto edit = [&] {
    if (!copy) copy = std::make_shared<FloatHistogram>(*h);
    return copy.get();
  };
  const FloatHistogram* cur = h.get();
  const int32_t top = max_schema(cfg.native_histogram_min_bucket_factor);
  if (!cur->custom() && cur->schema > top) {
    FloatHistogram* e = edit();
    e->reduce_resolution(top);
    cur = e;
  }
  const auto buckets = [&] { return cur->positive_buckets.size() + cur->negative_buckets.size(); };
  if (cfg.native_histogram_bucket_limit > 0) {
    while (buckets() > cfg.native_histogram_bucket_limit) {
      if (cur->custom() || cur->schema <= -4) return false;
      FloatHistogram* e = edit();
      e->reduce_resolution(e->schema - 1);
      cur = e;
    }
  }
  if (copy) h = std::move(copy);
  return true;
}

ExpositionFormat text_format(BodyFormat f) {
  return f == BodyFormat::kOpenMetrics ? ExpositionFormat::kOpenMetrics : ExpositionFormat::kPrometheusText;
}

struct LabelsHash {
  size_t operator()(const Labels& l) const { return l.hash(); }
};
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One series a target exposes, as its scrape cache holds it.
struct CachedSeries {
  Labels labels;  // with the target's labels, after metric_relabel_configs
  SeriesRef ref = 0;
  uint64_t generation = std::numeric_limits<uint64_t>::max();  // of the store, when `ref` was looked up
  // Scrapes are numbered per target: the last that exposed it, and the last
  // that exposed it and had it taken by the store (or had it in the scrape
  // before): "in" the previous scrape is in == this one's number - 1.
  uint64_t seen = 0;
  uint64_t in = 0;
  bool tracked = false;  // gets a staleness marker when it vanishes (false: it carried its own timestamps)
};

// What one line's series text (metric name and label block, as written)
// came to: a series, or nothing when relabelling dropped it.
struct CachedText {
  CachedSeries* series = nullptr;  // a node of ScrapeCache::series
  uint64_t seen = 0;
};

// A target's scrape cache, as Prometheus keeps one: a line whose series text
// appeared in the previous scrape costs a lookup, no label parsing,
// relabelling or label set. Entries a successful scrape does not see are
// dropped; a reload drops the texts (relabelling may have changed) but keeps
// the series and their staleness tracking.
struct ScrapeCache {
  std::unordered_map<Labels, CachedSeries, LabelsHash> series;  // nodes stay put
  std::unordered_map<std::string, CachedText, TextHash, std::equal_to<>> texts;
  // The last scrape's number; from 1, so that a new entry (in == 0) never
  // reads as "in" the last scrape.
  uint64_t scrapes = 1;
  size_t last_in = 0;    // series "in" the last scrape
};

// A scraped series' labels as stored: the target's labels added (on a
// conflict honor_labels keeps the scraped value, otherwise it moves to
// exported_<name>), then metric_relabel_configs. Nothing when relabelling
// drops it or leaves no metric name.
std::optional<Labels> stored_labels(const Labels& scraped, const Labels& target, const ScrapeConfig& cfg) {
  LabelsBuilder b(scraped);
  for (const LabelView l : target) {
    std::string_view existing = scraped.get(l.name);
    if (cfg.honor_labels) {
      if (existing.empty()) b.set(l.name, l.value);
      continue;
    }
    if (!existing.empty()) {
      std::string name = "exported_" + std::string(l.name);
      while (scraped.has(name)) name = "exported_" + name;
      b.set(name, existing);
    }
    b.set(l.name, l.value);
  }
  Labels ls = b.build();
  if (!cfg.metric_relabel_configs.empty()) {
    auto r = config::relabel(ls, cfg.metric_relabel_configs);
    if (!r) return std::nullopt;
    ls = std::move(*r);
  }
  if (ls.get("__name__").empty()) return std::nullopt;
  return ls;
}

// Why `ls` breaks the job's label limits (empty: it does not): the count
// first, else the last name or value too long.
std::string label_limit_error(const Labels& ls, const ScrapeConfig& cfg) {
  std::string err;
  if (cfg.label_limit > 0 && ls.size() > cfg.label_limit)
    return fmt::format("label_limit exceeded (metric: {}, number of labels: {}, limit: {})", ls.get("__name__"),
                       ls.size(), cfg.label_limit);
  for (const LabelView l : ls) {
    if (cfg.label_name_length_limit > 0 && l.name.size() > cfg.label_name_length_limit)
      err = fmt::format("label_name_length_limit exceeded (metric: {}, label name: {}, limit: {})",
                        ls.get("__name__"), l.name, cfg.label_name_length_limit);
    if (cfg.label_value_length_limit > 0 && l.value.size() > cfg.label_value_length_limit)
      err = fmt::format("label_value_length_limit exceeded (metric: {}, label: {}, limit: {})", ls.get("__name__"),
                        l.name, cfg.label_value_length_limit);
  }
  return err;
}

// A body's parse error as a scrape reports it. A text body is read again by
// the full parser (which checks the lines in the order the error must name).
std::string body_error(std::string_view body, BodyFormat format, const Error& found) {
  if (format == BodyFormat::kProtobuf) return found.message;
  auto full = parse_exposition(body, text_format(format));
  const Error& e = full ? found : full.error();
  return e.line > 0 ? fmt::format("line {}: {}", e.line, e.message) : e.message;
}

// Reads a scrape body into `out`; the error, or empty. `expected`: how many
// samples the body likely has.
std::string parse_body(std::string_view text, BodyFormat format, const ScrapeConfig& cfg, size_t expected,
                       ParsedBody& out) {
  if (format == BodyFormat::kProtobuf) {
    auto r = parse_protobuf_exposition(text, histogram_options(cfg), out);
    return r ? std::string() : r.error().message;
  }
  out.samples.reserve(expected);
  const bool nhcb = cfg.convert_classic_histograms_to_nhcb;
  ScrapeResult::TypeMap types;
  if (auto r = split_exposition(text, text_format(format), out.samples, nhcb ? &types : nullptr); !r)
    return body_error(text, format, r.error());
  if (nhcb) convert_text_histograms(out, types, cfg.always_scrape_classic_histograms);
  return {};
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string local_hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// Replaces a loopback host of `url` with this machine's name.
std::string global_url(const std::string& url, const std::string& host) {
  size_t start = url.find("://");
  if (start == std::string::npos) return url;
  start += 3;
  for (std::string_view lo : {"localhost", "127.0.0.1", "[::1]"}) {
    if (url.compare(start, lo.size(), lo) == 0) {
      size_t after = start + lo.size();
      if (after == url.size() || url[after] == ':' || url[after] == '/')
        return url.substr(0, start) + host + url.substr(after);
    }
  }
  return url;
}

bool is_out_of_order(const Error& e) { return e.message.starts_with("out of order"); }
bool is_series_refused(const Error& e) { return e.message.starts_with("series limit"); }

}  // namespace

std::string_view target_health_name(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp: return "up";
    case TargetHealth::kDown: return "down";
    case TargetHealth::kUnknown: break;
  }
  return "unknown";
}

struct ScrapeManager::Target {
  std::string key;  // identity within the job: final labels and URL
  Labels labels;
  Labels discovered;
  std::string url;
  Millis interval = 0;
  Millis timeout = 0;
  Millis next_due = 0;
  bool running = false;
  bool removed = false;  // gone from discovery while its scrape ran
  // Status, under the manager's mutex.
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  Millis last_scrape = 0;
  Millis last_duration = 0;
  // The scrape cache and staleness tracking, touched only by the target's
  // one running scrape or while no scrape runs.
  ScrapeCache cache;
  std::vector<Labels> report_series;  // written at least once
  // The cache's size after the last scrape, under the manager's mutex.
  size_t cached_texts = 0, cached_series = 0;
};

struct ScrapeManager::Pool {
  ScrapeConfig cfg;
  std::shared_ptr<net::HttpClient> client;
  std::unique_ptr<FileDiscovery> discovery;
  std::vector<std::unique_ptr<RefreshDiscovery>> refreshed;  // dns_sd_configs, http_sd_configs
  std::map<std::string, std::shared_ptr<Target>> targets;  // by key
  std::vector<Labels> dropped;
  bool over_target_limit = false;
  uint64_t scrapes = 0;
  uint64_t failures = 0;
};

struct ScrapeManager::Counters {
  uint64_t sample_limit = 0;
  uint64_t bucket_limit = 0;
  uint64_t body_limit = 0;
  uint64_t out_of_order = 0;
  uint64_t duplicate = 0;
  uint64_t sd_file_errors = 0;
  uint64_t cache_hits = 0, cache_misses = 0;
  // Of discoveries replaced by a reload; the live ones add theirs.
  uint64_t dns_lookups = 0, dns_failures = 0, http_failures = 0;
  std::string hostname;
};

ScrapeManager::ScrapeManager(storage::MemoryStore& store, std::shared_mutex& store_mu, const Clock& clock,
                             ScrapeOptions options)
    : store_(store), store_mu_(store_mu), clock_(clock), options_(options), counters_(std::make_unique<Counters>()) {
  counters_->hostname = local_hostname();
  if (options_.workers > 0) {
    workers_ = std::make_unique<net::WorkerPool>(options_.workers, clock_, 10'000);
    sd_workers_ = std::make_unique<net::WorkerPool>(1, clock_, 10'000);
  }
}

ScrapeManager::~ScrapeManager() {
  if (sd_workers_) sd_workers_->stop();
  if (workers_) workers_->stop();
}

// ---- discovery ----

bool ScrapeManager::refresh_discovery(const std::shared_ptr<Pool>& pool_ptr, Millis now, bool force) {
  Pool& pool = *pool_ptr;
  const uint64_t before = pool.discovery->read_errors();
  bool changed = pool.discovery->refresh(now, force);
  counters_->sd_file_errors += pool.discovery->read_errors() - before;
  for (auto& d : pool.refreshed) {
    if (!sd_workers_ || force) {
      changed = d->refresh(now, force) || changed;
      continue;
    }
    if (!d->due(now)) continue;
    // Asked on the discovery thread, so that a slow DNS server or HTTP SD
    // endpoint never holds up a scrape; its answer syncs the targets.
    d->begin(now);
    RefreshDiscovery* sd = d.get();
    bool queued = sd_workers_->submit([this, pool_ptr, sd](bool cancelled) {
      RefreshDiscovery::Answer a = cancelled ? RefreshDiscovery::Answer{std::nullopt, sd->error()} : sd->ask();
      std::lock_guard lock(mu_);
      if (!sd->finish(std::move(a))) return;
      auto it = pools_.find(pool_ptr->cfg.job_name);
      if (it != pools_.end() && it->second == pool_ptr) sync_targets(*pool_ptr, clock_.now());
    });
    if (!queued) (void)sd->finish({std::nullopt, sd->error()});
  }
  return changed;
}

void ScrapeManager::sync_targets(Pool& pool, Millis now) {
  const ScrapeConfig& cfg = pool.cfg;
  std::vector<const TargetGroup*> groups;
  std::vector<TargetGroup> statics;
  for (const StaticTargetGroup& sg : cfg.static_configs) statics.push_back({sg.targets, sg.labels});
  for (const TargetGroup& g : statics) groups.push_back(&g);
  for (const TargetGroup* g : pool.discovery->groups()) groups.push_back(g);
  for (const auto& d : pool.refreshed)
    for (const TargetGroup& g : d->groups()) groups.push_back(&g);

  std::map<std::string, std::shared_ptr<Target>> next;
  std::vector<Labels> dropped;
  for (const TargetGroup* g : groups) {
    for (const std::string& address : g->targets) {
      LabelsBuilder b(g->labels);
      b.set("__address__", address);
      Labels with_address = b.build();
      auto set_default = [&](std::string_view name, std::string_view value) {
        if (!with_address.has(name)) b.set(name, value);
      };
      set_default("job", cfg.job_name);
      set_default("__scheme__", cfg.scheme);
      set_default("__metrics_path__", cfg.metrics_path);
      set_default("__scrape_interval__", format_duration(cfg.scrape_interval));
      set_default("__scrape_timeout__", format_duration(cfg.scrape_timeout));
      for (const auto& [name, values] : cfg.params)
        if (!values.empty()) set_default("__param_" + name, values.front());
      Labels discovered = b.build();

      auto relabeled = config::relabel(discovered, cfg.relabel_configs);
      if (!relabeled || relabeled->get("__address__").empty()) {
        dropped.push_back(std::move(discovered));
        continue;
      }
      auto interval = parse_duration(relabeled->get("__scrape_interval__"));
      auto timeout = parse_duration(relabeled->get("__scrape_timeout__"));
      if (!interval || !timeout || *interval <= 0 || *timeout <= 0 || *timeout > *interval) {
        dropped.push_back(std::move(discovered));
        continue;
      }
      // The URL: scheme, address, path, and the query from the params with
      // __param_ labels replacing a parameter's values.
      std::vector<std::pair<std::string, std::vector<std::string>>> params = cfg.params;
      for (const LabelView l : *relabeled) {
        if (!l.name.starts_with("__param_")) continue;
        std::string_view name = l.name.substr(8);
        auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
        if (it == params.end()) params.push_back({std::string(name), {std::string(l.value)}});
        else it->second = {std::string(l.value)};
      }
      std::sort(params.begin(), params.end());
      std::string query;
      for (const auto& [name, values] : params)
        for (const std::string& v : values)
          query += fmt::format("{}{}={}", query.empty() ? "?" : "&", net::url_query_escape(name), net::url_query_escape(v));
      std::string path(relabeled->get("__metrics_path__"));
      if (path.empty() || path.front() != '/') path.insert(0, "/");
      std::string url =
          fmt::format("{}://{}{}{}", relabeled->get("__scheme__"), relabeled->get("__address__"), path, query);

      std::vector<LabelView> kept;
      for (const LabelView l : *relabeled)
        if (!l.name.starts_with("__")) kept.push_back(l);
      if (!relabeled->has("instance")) kept.emplace_back("instance", relabeled->get("__address__"));
      Labels labels(kept);
      std::string key = labels.to_string() + " " + url;
      if (next.contains(key)) continue;

      std::shared_ptr<Target> t;
      if (auto old = pool.targets.find(key); old != pool.targets.end()) {
        t = old->second;
      } else {
        t = std::make_shared<Target>();
        t->key = key;
        t->labels = labels;
        t->url = url;
      }
      t->discovered = std::move(discovered);
      t->timeout = *timeout;
      if (t->interval != *interval || t->next_due == 0) {
        // A stable offset within the interval spreads targets out.
        t->interval = *interval;
        Millis offset = static_cast<Millis>(fnv1a(key) % static_cast<uint64_t>(*interval));
        Millis due = now - (now % *interval) + offset;
        if (due < now) due += *interval;
        t->next_due = due;
      }
      next.emplace(key, std::move(t));
    }
  }
  for (auto& [key, t] : pool.targets) {
    if (next.contains(key)) continue;
    // A running scrape owns the target's series: it marks them when done.
    if (t->running) t->removed = true;
    else mark_stale(*t, now);
  }
  pool.targets = std::move(next);
  pool.dropped = std::move(dropped);
  pool.over_target_limit = cfg.target_limit > 0 && pool.targets.size() > cfg.target_limit;
  if (pool.over_target_limit) {
    const std::string msg = fmt::format("target_limit exceeded (number of targets: {}, limit: {})",
                                        pool.targets.size(), cfg.target_limit);
    for (auto& [key, t] : pool.targets) {
      if (!t->running) mark_stale(*t, now);
      t->health = TargetHealth::kDown;
      t->last_error = msg;
    }
  }
}

// ---- configuration ----

void ScrapeManager::add_sd_counts(const Pool& pool) {
  for (const auto& d : pool.refreshed) {
    if (std::string_view(d->mechanism()) == "dns") {
      counters_->dns_lookups += d->lookups();
      counters_->dns_failures += d->failures();
    } else {
      counters_->http_failures += d->failures();
    }
  }
}

std::vector<Error> ScrapeManager::apply(const PrometheusConfig& config) {
  wait_discovery_idle();
  wait_idle();
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  std::vector<Error> errors;
  std::map<std::string, std::shared_ptr<Pool>> next;
  for (const ScrapeConfig& sc : config.scrape_configs) {
    auto client = net::HttpClient::create(&sc.http);
    if (!client) {
      errors.push_back({fmt::format("job \"{}\": {}", sc.job_name, client.error().message), sc.line, 0});
      continue;
    }
    auto pool = std::make_shared<Pool>();
    pool->cfg = sc;
    pool->client = std::move(*client);
    pool->discovery = std::make_unique<FileDiscovery>(sc.file_sd_configs, options_.file_sd_poll);
    for (const config::DnsSdConfig& d : sc.dns_sd_configs)
      pool->refreshed.push_back(std::make_unique<DnsDiscovery>(d, options_.resolver));
    for (const config::HttpSdConfig& h : sc.http_sd_configs) {
      auto d = HttpDiscovery::create(h, options_.http_sd_fetch);
      if (!d) errors.push_back(Error{fmt::format("job \"{}\": {}", sc.job_name, d.error().message), h.line, 0});
      else pool->refreshed.push_back(std::move(*d));
    }
    if (auto old = pools_.find(sc.job_name); old != pools_.end()) {
      pool->targets = std::move(old->second->targets);
      // Relabelling or limits may have changed: every line is read afresh.
      for (auto& [key, t] : pool->targets) t->cache.texts.clear();
      pool->scrapes = old->second->scrapes;
      pool->failures = old->second->failures;
      add_sd_counts(*old->second);
      pools_.erase(old);
    }
    refresh_discovery(pool, now, true);
    sync_targets(*pool, now);
    next.emplace(sc.job_name, std::move(pool));
  }
  for (auto& [job, pool] : pools_) {
    add_sd_counts(*pool);
    for (auto& [key, t] : pool->targets) mark_stale(*t, now);
  }
  pools_ = std::move(next);
  return errors;
}

void ScrapeManager::stop() {
  wait_discovery_idle();
  wait_idle();
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  for (auto& [job, pool] : pools_)
    for (auto& [key, t] : pool->targets) mark_stale(*t, now);
  pools_.clear();
}

void ScrapeManager::mark_stale(Target& t, Millis at) {
  if (!t.cache.series.empty() || !t.report_series.empty()) {
    std::unique_lock lock(store_mu_);
    for (const auto& [l, s] : t.cache.series)
      if (s.in == t.cache.scrapes && s.tracked) (void)store_.append(l, at, storage::stale_nan());
    for (const Labels& l : t.report_series) (void)store_.append(l, at, storage::stale_nan());
  }
  t.cache.texts.clear();
  t.cache.series.clear();
  t.cache.last_in = 0;
  t.report_series.clear();
  t.cached_texts = t.cached_series = 0;
}

// ---- scheduling ----

std::optional<Millis> ScrapeManager::next_due() const {
  std::lock_guard lock(mu_);
  std::optional<Millis> best;
  auto consider = [&](Millis t) {
    if (!best || t < *best) best = t;
  };
  for (const auto& [job, pool] : pools_) {
    if (!pool->over_target_limit)
      for (const auto& [key, t] : pool->targets)
        if (!t->running) consider(t->next_due);
    if (auto t = pool->discovery->next_due()) consider(*t);
    for (const auto& d : pool->refreshed)
      if (!d->asking()) consider(d->next_due());
  }
  return best;
}

size_t ScrapeManager::run_due() {
  const Millis now = clock_.now();
  struct Due {
    std::shared_ptr<Pool> pool;
    std::shared_ptr<Target> t;
    Millis timeout;
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mu_);
    for (auto& [job, pool] : pools_) {
      if (refresh_discovery(pool, now, false)) sync_targets(*pool, now);
      if (pool->over_target_limit) continue;
      for (auto& [key, t] : pool->targets) {
        if (t->running || t->next_due > now) continue;
        t->running = true;
        Millis next = t->next_due + t->interval;
        if (next <= now) next += ((now - next) / t->interval + 1) * t->interval;
        t->next_due = next;
        due.push_back({pool, t, t->timeout});
      }
    }
  }
  for (auto& [pool, t, timeout] : due) {
    if (!workers_) {
      scrape(pool, t, now, timeout);
      continue;
    }
    // Init-captures: clang before 16 cannot capture structured bindings.
    bool queued = workers_->submit([this, pool = pool, t = t, now, timeout = timeout](bool cancelled) {
      if (cancelled) {
        std::lock_guard lock(mu_);
        t->running = false;
        return;
      }
      scrape(pool, t, now, timeout);
    });
    if (!queued) {
      std::lock_guard lock(mu_);
      t->running = false;
    }
  }
  return due.size();
}

void ScrapeManager::wait_idle() {
  if (workers_) workers_->wait_idle();
}

void ScrapeManager::wait_discovery_idle() {
  if (sd_workers_) sd_workers_->wait_idle();
}

// ---- one scrape ----

void ScrapeManager::scrape(const std::shared_ptr<Pool>& pool, const std::shared_ptr<Target>& t, Millis start,
                           Millis timeout) {
  const ScrapeConfig& cfg = pool->cfg;
  const auto began = std::chrono::steady_clock::now();
  std::string err;
  bool body_limit = false, sample_limit = false, bucket_limit = false;

  net::HttpRequest req;
  req.method = "GET";
  req.url = t->url;
  req.content_type.clear();
  req.headers = {{"Accept", accept_header(cfg.scrape_protocols, cfg.name_escaping)},
                 {"X-Prometheus-Scrape-Timeout-Seconds", fmt::format("{:g}", static_cast<double>(timeout) / 1000)}};
  req.timeout = timeout;
  req.max_body = cfg.body_size_limit > 0 ? cfg.body_size_limit : options_.max_body;
  req.abort_over_max_body = true;
  req.redact_body = false;
  auto resp = pool->client->send(req);

  ParsedBody body;
  const std::vector<RawSample>& lines = body.samples;
  BodyFormat format = BodyFormat::kPrometheusText;
  if (!resp) {
    err = resp.error().message;
    body_limit = err.starts_with("response body larger");
  } else if (resp->status != 200) {
    err = fmt::format("server returned HTTP status {}", resp->status);
  } else if (resp->body.empty()) {
    // Nothing to read: whatever its Content-Type, an empty body is a
    // successful scrape of no samples, as in Prometheus.
  } else if (auto f = body_format(resp->content_type, cfg.fallback_scrape_protocol); !f) {
    err = f.error().message;
  } else {
    format = *f;
    err = parse_body(resp->body, format, cfg, t->cache.texts.size(), body);
  }

  struct Out {
    CachedSeries* series;
    int64_t t;
    double v;
    bool explicit_ts;
    uint32_t histogram;  // as RawSample's
  };
  std::vector<Out> batch;
  ScrapeCache& cache = t->cache;
  const uint64_t iter = ++cache.scrapes;
  uint64_t hits = 0, misses = 0;
  size_t texts_seen = 0, series_seen = 0;  // distinct ones
  size_t scraped = err.empty() ? lines.size() : 0;  // 0 unless the body parses
  if (err.empty()) {
    batch.reserve(scraped);
    for (const RawSample& line : lines) {
      CachedSeries* series = nullptr;
      if (auto hit = cache.texts.find(line.series); hit != cache.texts.end()) {
        ++hits;
        if (hit->second.seen != iter) ++texts_seen;
        hit->second.seen = iter;
        series = hit->second.series;
      } else {
        ++misses;
        auto scraped_labels = storage::parse_series(line.series, line.line, line.type);
        if (!scraped_labels) {
          err = body_error(resp->body, format, scraped_labels.error());
          scraped = 0;
          break;
        }
        std::optional<Labels> ls = stored_labels(*scraped_labels, t->labels, cfg);
        if (ls) {
          // Not cached: the scrape fails, as it will next time.
          err = label_limit_error(*ls, cfg);
          if (!err.empty()) {
            // A parse error further down the body is what a scrape reports.
            if (format == BodyFormat::kProtobuf) break;
            if (auto full = storage::parse_exposition(resp->body, text_format(format)); !full) {
              err = body_error(resp->body, format, full.error());
              scraped = 0;
            }
            break;
          }
          series = &cache.series.try_emplace(*ls).first->second;
          if (series->labels.empty()) series->labels = std::move(*ls);
        }
        cache.texts.emplace(std::string(line.series), CachedText{series, iter});
        ++texts_seen;
      }
      if (!series) continue;
      if (series->seen != iter) ++series_seen;
      series->seen = iter;
      if (line.histogram != 0 && !limit_histogram(body.histograms[line.histogram - 1], cfg)) bucket_limit = true;
      const bool explicit_ts = cfg.honor_timestamps && line.timestamp_ms.has_value();
      batch.push_back({series, explicit_ts ? *line.timestamp_ms : start, line.value, explicit_ts, line.histogram});
    }
    if (err.empty() && cfg.sample_limit > 0 && batch.size() > cfg.sample_limit) {
      err = fmt::format("sample limit exceeded: {} samples after relabeling, the limit is {}", batch.size(),
                        cfg.sample_limit);
      sample_limit = true;
    }
    // The sample limit's error wins, as in Prometheus; both are counted.
    if (bucket_limit && err.empty()) err = "histogram bucket limit exceeded";
    if (!err.empty()) batch.clear();
  }
  const double duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();

  // Report series carry the target's labels.
  auto report = [&](std::string_view name) {
    LabelsBuilder b(t->labels);
    b.set("__name__", name);
    return b.build();
  };
  uint64_t out_of_order = 0, duplicates = 0;
  size_t added = 0;
  Result<uint64_t> wal_pos = uint64_t{0};
  {
    std::unique_lock lock(store_mu_);
    const uint64_t generation = store_.generation();
    // The series' ref in the store, looked up again after refs changed.
    auto ref_of = [&](CachedSeries& series) -> Result<SeriesRef> {
      if (series.generation == generation) return series.ref;
      auto ref = store_.add_series(series.labels);
      if (ref) {
        series.ref = *ref;
        series.generation = generation;
      }
      return ref;
    };
    size_t now_in = 0, still_in = 0;  // series "in" this scrape; of them, those in the last one too
    for (const Out& o : batch) {
      CachedSeries& series = *o.series;
      const bool seen = series.in == iter - 1;
      auto ref = ref_of(series);
      Result<void> ok = !ref          ? Result<void>(std::unexpected(ref.error()))
                        : o.histogram ? store_.append_histogram(*ref, o.t, body.histograms[o.histogram - 1])
                                      : store_.append(*ref, o.t, o.v);
      if (!ok) {
        if (is_out_of_order(ok.error())) ++out_of_order;
        else if (!is_series_refused(ok.error())) ++duplicates;
      } else if (!seen && series.in != iter) {
        ++added;
      }
      if ((ok || seen) && series.in != iter) {
        series.in = iter;
        series.tracked = !o.explicit_ts;  // the first sample of a series in a scrape decides
        ++now_in;
        if (seen) ++still_in;
      }
    }
    // Markers for the series that vanished; a successful scrape drops what
    // it did not see from the cache (a failed one keeps it for the next).
    // When every series of the last scrape is back and every entry was
    // seen, there is nothing to walk.
    const bool evict = err.empty() && (texts_seen < cache.texts.size() || series_seen < cache.series.size());
    if (evict || still_in < cache.last_in) {
      for (auto it = cache.series.begin(); it != cache.series.end();) {
        CachedSeries& series = it->second;
        if (series.in == iter - 1 && series.tracked) {
          if (auto ref = ref_of(series)) (void)store_.append(*ref, start, storage::stale_nan());
        }
        if (evict && series.seen != iter) it = cache.series.erase(it);
        else ++it;
      }
      if (evict) std::erase_if(cache.texts, [&](const auto& e) { return e.second.seen != iter; });
    }
    cache.last_in = now_in;
    const bool up = err.empty();
    const std::pair<std::string_view, double> reports[] = {
        {"up", up ? 1.0 : 0.0},
        {"scrape_duration_seconds", duration},
        {"scrape_samples_scraped", static_cast<double>(scraped)},  // 0 unless the body parsed
        {"scrape_samples_post_metric_relabeling", static_cast<double>(batch.size())},
        {"scrape_series_added", static_cast<double>(added)},
    };
    if (t->report_series.empty())
      for (const auto& [name, v] : reports) t->report_series.push_back(report(name));
    for (size_t i = 0; i < std::size(reports); ++i) (void)store_.append(t->report_series[i], start, reports[i].second);
    if (Wal* wal = store_.wal()) wal_pos = wal->write();
  }
  // The scrape's samples reach the disk before the next one starts;
  // concurrent scrapes share one fdatasync.
  if (Wal* wal = store_.wal(); wal && wal_pos && *wal_pos) (void)wal->sync(*wal_pos);

  std::lock_guard lock(mu_);
  t->running = false;
  t->health = err.empty() ? TargetHealth::kUp : TargetHealth::kDown;
  t->last_error = std::move(err);
  t->last_scrape = start;
  t->last_duration = static_cast<Millis>(duration * 1000);
  ++pool->scrapes;
  if (t->health == TargetHealth::kDown) ++pool->failures;
  counters_->out_of_order += out_of_order;
  counters_->duplicate += duplicates;
  counters_->cache_hits += hits;
  counters_->cache_misses += misses;
  t->cached_texts = cache.texts.size();
  t->cached_series = cache.series.size();
  if (sample_limit) ++counters_->sample_limit;
  if (bucket_limit) ++counters_->bucket_limit;
  if (body_limit) ++counters_->body_limit;
  if (t->removed) mark_stale(*t, clock_.now());
}

// ---- introspection ----

std::vector<TargetStatus> ScrapeManager::active_targets() const {
  std::lock_guard lock(mu_);
  std::vector<TargetStatus> out;
  for (const auto& [job, pool] : pools_) {
    for (const auto& [key, t] : pool->targets) {
      TargetStatus s;
      s.scrape_pool = job;
      s.scrape_url = t->url;
      s.global_url = global_url(t->url, counters_->hostname);
      s.labels = t->labels;
      s.discovered_labels = t->discovered;
      s.health = t->health;
      s.last_error = t->last_error;
      s.last_scrape = t->last_scrape;
      s.last_scrape_duration = t->last_duration;
      s.scrape_interval = t->interval;
      s.scrape_timeout = t->timeout;
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<DroppedTarget> ScrapeManager::dropped_targets() const {
  std::lock_guard lock(mu_);
  std::vector<DroppedTarget> out;
  for (const auto& [job, pool] : pools_)
    for (const Labels& l : pool->dropped) out.push_back({job, l});
  return out;
}

std::vector<DiscoveryError> ScrapeManager::discovery_errors() const {
  std::lock_guard lock(mu_);
  std::vector<DiscoveryError> out;
  for (const auto& [job, pool] : pools_) {
    for (const auto& e : pool->discovery->errors()) out.push_back({job, e.path, e.message});
    for (const auto& d : pool->refreshed)
      if (!d->error().empty()) out.push_back({job, d->source(), d->error()});
  }
  return out;
}

ScrapeManager::CacheStats ScrapeManager::cache_stats() const {
  std::lock_guard lock(mu_);
  CacheStats out{counters_->cache_hits, counters_->cache_misses, 0, 0};
  for (const auto& [job, pool] : pools_)
    for (const auto& [key, t] : pool->targets) {
      out.texts += t->cached_texts;
      out.series += t->cached_series;
    }
  return out;
}

void ScrapeManager::truncate(Millis keep) {
  const Millis mint = clock_.now() - keep;
  std::unique_lock lock(store_mu_);
  store_.truncate_before(mint);
}

void ScrapeManager::write_metrics(MetricsWriter& w) const {
  std::lock_guard lock(mu_);
  auto per_job = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    w.family(name, type, help);
    for (const auto& [job, pool] : pools_) w.sample(name, {{"scrape_job", job}}, static_cast<double>(value(*pool)));
  };
  per_job("prometheus_target_scrape_pool_targets", "gauge", "Active targets of each scrape job.",
          [](const Pool& p) { return p.targets.size(); });
  per_job("prometheus_target_scrape_pool_dropped_targets", "gauge", "Targets relabeling dropped, per scrape job.",
          [](const Pool& p) { return p.dropped.size(); });
  per_job("vigil_target_scrapes_total", "counter", "Scrapes finished, per scrape job.",
          [](const Pool& p) { return p.scrapes; });
  per_job("vigil_target_scrapes_failed_total", "counter", "Scrapes that failed, per scrape job.",
          [](const Pool& p) { return p.failures; });
  auto counter = [&](std::string_view name, std::string_view help, uint64_t v) {
    w.single(name, "counter", help, static_cast<double>(v));
  };
  counter("prometheus_target_scrapes_exceeded_sample_limit_total", "Scrapes that failed for exceeding sample_limit.",
          counters_->sample_limit);
  counter("prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total",
          "Scrapes that failed for a native histogram over native_histogram_bucket_limit.", counters_->bucket_limit);
  counter("prometheus_target_scrapes_exceeded_body_size_limit_total",
          "Scrapes that failed for a body larger than the limit.", counters_->body_limit);
  counter("prometheus_target_scrapes_sample_out_of_order_total", "Scraped samples refused as out of order.",
          counters_->out_of_order);
  counter("prometheus_target_scrapes_sample_duplicate_timestamp_total",
          "Scraped samples refused for repeating a timestamp with another value.", counters_->duplicate);
  counter("prometheus_sd_file_read_errors_total", "file_sd files that could not be read or parsed.",
          counters_->sd_file_errors);
  counter("vigil_target_scrape_cache_hits_total", "Scraped lines whose series the scrape cache held.",
          counters_->cache_hits);
  counter("vigil_target_scrape_cache_misses_total", "Scraped lines whose labels were read and relabelled.",
          counters_->cache_misses);
  uint64_t dns_lookups = counters_->dns_lookups, dns_failures = counters_->dns_failures,
           http_failures = counters_->http_failures;
  for (const auto& [job, pool] : pools_)
    for (const auto& d : pool->refreshed) {
      if (std::string_view(d->mechanism()) == "dns") {
        dns_lookups += d->lookups();
        dns_failures += d->failures();
      } else {
        http_failures += d->failures();
      }
    }
  counter("prometheus_sd_dns_lookups_total", "DNS lookups of dns_sd_configs.", dns_lookups);
  counter("prometheus_sd_dns_lookup_failures_total", "DNS lookups of dns_sd_configs that failed.", dns_failures);
  counter("prometheus_sd_http_failures_total", "Refreshes of http_sd_configs that failed.", http_failures);
}

void write_store_metrics(MetricsWriter& w, const MemoryStore& store, Millis retention) {
  w.single("vigil_store_series", "gauge", "Series in the in-memory store.", static_cast<double>(store.num_series()));
  w.single("vigil_store_samples", "gauge", "Samples in the in-memory store.", static_cast<double>(store.num_samples()));
  w.single("vigil_store_sample_bytes", "gauge", "Bytes of compressed samples in the in-memory store.",
           static_cast<double>(store.sample_bytes()));
  w.single("vigil_store_series_removed_total", "counter",
           "Series removed from the in-memory store for having no sample within the retention.",
           static_cast<double>(store.series_removed()));
  w.single("vigil_store_series_refused_total", "counter",
           "New series the in-memory store refused for holding --storage.max-series already.",
           static_cast<double>(store.series_refused()));
  w.single("vigil_store_max_series", "gauge", "The in-memory store's series limit (0: none).",
           static_cast<double>(store.max_series()));
  if (retention > 0)
    w.single("vigil_store_retention_seconds", "gauge", "How long the in-memory store keeps samples.",
             static_cast<double>(retention) / 1000.0);
}

}  // namespace vigil::storage
