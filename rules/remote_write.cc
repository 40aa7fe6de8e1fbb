#include "rules/remote_write.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include <fmt/format.h>

#include "config/relabel.h"
#include "storage/remote_protocol.h"

namespace vigil::rules {
namespace {

// What Prometheus names a destination without a name: a short hash.
std::string hash_name(std::string_view url) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : url) h = (h ^ c) * 1099511628211ULL;
  return fmt::format("{:06x}", h & 0xffffff);
}

// Retry-After in seconds (the HTTP-date form is not used by the remote
// write receivers vigil meets).
std::optional<Millis> retry_after(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const long s = std::strtol(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0' || s < 0) return std::nullopt;
  return std::min<Millis>(s * kSecond, 5 * kMinute);
}

// A value's full content, credentials included (compared, never shown).
void dump(const config::ConfigValue& v, std::string& out) {
  using K = config::ConfigValue::Kind;
  switch (v.kind()) {
    case K::Null: out += "~"; break;
    case K::Bool: out += v.as_bool() ? "T" : "F"; break;
    case K::Int: out += fmt::format("i{}", v.as_int()); break;
    case K::Float: out += fmt::format("f{}", v.as_float()); break;
    case K::String: out += fmt::format("s{}:{}", v.as_string().size(), v.as_string()); break;
    case K::List:
      out += '[';
      for (const auto& i : v.items()) dump(i, out);
      out += ']';
      break;
    case K::Map:
      out += '{';
      for (const auto& [k, e] : v.entries()) {
        out += fmt::format("{}:{}=", k.size(), k);
        dump(e, out);
      }
      out += '}';
      break;
  }
}

std::string fingerprint(const config::RemoteWriteConfig& c, const Labels& external) {
  std::string f = fmt::format("{}\n{}\n{}\n{}/{}/{}/{}/{}/{}\n", c.url, c.name, c.remote_timeout, c.queue.capacity,
                              c.queue.max_samples_per_send, c.queue.batch_send_deadline, c.queue.min_backoff,
                              c.queue.max_backoff, c.queue.retry_on_http_429);
  f += c.send_native_histograms ? "histograms\n" : "";
  for (const auto& [k, v] : c.headers) f += k + ":" + v + "\n";
  for (const auto& r : c.write_relabel_configs)
    f += fmt::format("{}|{}|{}|{}|{}|{}|{}\n", static_cast<int>(r.action), fmt::join(r.source_labels, ","), r.separator,
                     r.regex, r.modulus, r.target_label, r.replacement);
  for (LabelView l : external) f += fmt::format("{}={}\n", l.name, l.value);
  // Credentials in files are read at each request; inline ones are here.
  dump(c.http, f);
  return f;
}

}  // namespace

Result<RemoteWriteTransport> http_transport(const config::RemoteWriteConfig& cfg) {
  auto client = net::HttpClient::create(&cfg.http);
  if (!client) return fail(fmt::format("remote_write {}: {}", cfg.url, client.error().message));
  return RemoteWriteTransport([c = *client](const net::HttpRequest& req) { return c->send(req); });
}

std::string encode_write_request(std::span<const promql::Sample> samples) {
  storage::remote::WriteRequest req;
  std::unordered_map<uint64_t, std::vector<int>> by_hash;
  for (const promql::Sample& s : samples) {
    std::vector<int>& candidates = by_hash[s.labels.hash()];
    storage::remote::TimeSeries* ts = nullptr;
    for (int i : candidates) {
      if (req.timeseries(i).labels_size() == static_cast<int>(s.labels.size())) {
        // Same hash and size: compare the names and values.
        const auto& pl = req.timeseries(i).labels();
        bool same = true;
        int j = 0;
        for (LabelView l : s.labels) {
          if (pl[j].name() != l.name || pl[j].value() != l.value) {
            same = false;
            break;
          }
          ++j;
        }
        if (same) {
          ts = req.mutable_timeseries(i);
          break;
        }
      }
    }
    if (ts == nullptr) {
      candidates.push_back(req.timeseries_size());
      ts = req.add_timeseries();
      storage::set_labels(*ts, s.labels);
    }
    if (s.h) {
      storage::set_histogram(*ts->add_histograms(), *s.h, s.t);
    } else {
      storage::remote::Sample* out = ts->add_samples();
      out->set_value(s.value);
      out->set_timestamp(s.t);
    }
  }
  return storage::snappy_compress(req.SerializeAsString());
}

RemoteWriteQueue::RemoteWriteQueue(config::RemoteWriteConfig cfg, Labels external_labels, const Clock& clock,
                                   RemoteWriteTransport transport, const std::atomic<bool>* cancel,
                                   RemoteWriteLog log)
    : cfg_(std::move(cfg)),
      external_labels_(std::move(external_labels)),
      clock_(clock),
      transport_(std::move(transport)),
      cancel_(cancel),
      log_(std::move(log)),
      remote_name_(cfg_.name.empty() ? hash_name(cfg_.url) : cfg_.name) {}

std::optional<Labels> RemoteWriteQueue::send_labels(const Labels& in) {
  if (external_labels_.empty() && cfg_.write_relabel_configs.empty()) return in;
  std::lock_guard lock(labels_mu_);
  auto it = sent_as_.find(in.hash());
  if (it != sent_as_.end() && it->second.first == in) return it->second.second;
  Labels ls = in;
  if (!external_labels_.empty()) {
    LabelsBuilder b(ls);
    bool added = false;
    for (LabelView e : external_labels_)
      if (!ls.has(e.name)) {
        b.set(e.name, e.value);
        added = true;
      }
    if (added) ls = b.build();
  }
  std::optional<Labels> out = std::move(ls);
  if (!cfg_.write_relabel_configs.empty()) {
    out = config::relabel(*out, cfg_.write_relabel_configs);
    if (out && out->empty()) out.reset();
  }
  if (sent_as_.size() >= 4 * cfg_.queue.capacity) sent_as_.clear();
  sent_as_.insert_or_assign(in.hash(), std::pair(in, out));
  return out;
}

void RemoteWriteQueue::append(std::span<const promql::Sample> samples) {
  std::vector<promql::Sample> keep;
  keep.reserve(samples.size());
  uint64_t dropped = 0;
  bool left_out = false;
  for (const promql::Sample& s : samples) {
    if (s.h && !cfg_.send_native_histograms) {
      left_out = true;
      continue;
    }
    std::optional<Labels> ls = send_labels(s.labels);
    if (!ls) {
      ++dropped;
      continue;
    }
    keep.push_back(promql::Sample{std::move(*ls), s.value, s.t, s.h});
  }
  if (left_out && !said_histograms_off_.exchange(true) && log_)
    log_(false, remote_name_,
         "rule output holds native histograms, which are not sent: send_native_histograms is off for this "
         "remote_write destination");
  {
    std::lock_guard lock(mu_);
    for (auto& s : keep) {
      if (queue_.size() >= cfg_.queue.capacity) {
        ++dropped;
        continue;
      }
      if (queue_.empty()) oldest_at_ = clock_.now();
      queue_.push_back(std::move(s));
    }
  }
  if (dropped > 0) samples_dropped_ += dropped;
}

std::optional<Millis> RemoteWriteQueue::next_due() const {
  if (Millis r = retry_at_.load(); r != 0) return r;
  std::lock_guard lock(mu_);
  if (queue_.empty()) return std::nullopt;
  if (queue_.size() >= cfg_.queue.max_samples_per_send) return clock_.now();
  return oldest_at_ + cfg_.queue.batch_send_deadline;
}

void RemoteWriteQueue::run_due() {
  std::lock_guard send_lock(send_mu_);
  const Millis now = clock_.now();
  if (inflight_) {
    if (now < retry_at_.load()) return;
  } else if (!take_batch(now, false)) {
    return;
  }
  attempt(*inflight_, now, cfg_.remote_timeout);
}

void RemoteWriteQueue::flush(std::chrono::steady_clock::time_point until) {
  std::unique_lock send_lock(send_mu_, std::defer_lock);
  if (!send_lock.try_lock_until(until)) return;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    const Millis now = clock_.now();
    if (!inflight_ && !take_batch(now, true)) return;
    attempt(*inflight_, now, std::min<Millis>(cfg_.remote_timeout, left.count()));
    if (inflight_) return;  // failed: the destination is not taking samples now
  }
}

bool RemoteWriteQueue::take_batch(Millis now, bool ignore_deadline) {
  std::vector<promql::Sample> batch;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return false;
    if (!ignore_deadline && queue_.size() < cfg_.queue.max_samples_per_send &&
        now < oldest_at_ + cfg_.queue.batch_send_deadline)
      return false;
    const size_t n = std::min(queue_.size(), cfg_.queue.max_samples_per_send);
    batch.reserve(n);
    std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(batch));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    // What is left waits at most another deadline from now.
    oldest_at_ = now;
  }
  Batch b;
  for (const auto& s : batch) {
    b.max_t = std::max(b.max_t, s.t);
    ++(s.h ? b.histograms : b.samples);
  }
  b.body = encode_write_request(batch);
  b.backoff = cfg_.queue.min_backoff;
  inflight_ = std::move(b);
  inflight_samples_ = inflight_->samples + inflight_->histograms;
  return true;
}

void RemoteWriteQueue::attempt(Batch& b, Millis now, Millis timeout) {
  net::HttpRequest req;
  req.method = "POST";
  req.url = cfg_.url;
  req.content_type = std::string(storage::kProtobufContentType);
  req.headers = {{"Content-Encoding", "snappy"},
                 {"X-Prometheus-Remote-Write-Version", std::string(storage::kRemoteWriteVersion)},
                 {"User-Agent", "vigil"}};
  for (const auto& h : cfg_.headers) req.headers.push_back(h);
  req.body = b.body;
  req.timeout = timeout;
  req.cancel = cancel_;
  samples_total_ += b.samples;
  histograms_total_ += b.histograms;
  bytes_total_ += b.body.size();
  const auto started = std::chrono::steady_clock::now();
  auto resp = transport_(req);
  {
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto& bounds = send_buckets();
    std::lock_guard lock(hist_mu_);
    if (send_buckets_.empty()) send_buckets_.assign(bounds.size(), 0);
    const size_t i = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), took) - bounds.begin());
    if (i < bounds.size()) ++send_buckets_[i];
    send_seconds_sum_ += took;
    ++sends_;
  }
  const bool ok = resp && resp->status / 100 == 2;
  const bool recoverable =
      !resp || resp->status / 100 == 5 || (resp->status == 429 && cfg_.queue.retry_on_http_429);
  auto why = [&] {
    if (!resp) return resp.error().message;
    std::string body = resp->body.substr(0, 256);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return fmt::format("HTTP {}{}{}", resp->status, body.empty() ? "" : ": ", body);
  };
  if (ok && failing_ && log_) log_(false, remote_name_, "remote write resumed: the destination accepts samples again");
  if (ok) failing_ = false;
  if (!ok && !recoverable && log_)
    log_(true, remote_name_,
         fmt::format("remote write batch of {} samples dropped: {}", b.samples + b.histograms, why()));
  if (!ok && recoverable && !failing_) {
    failing_ = true;
    if (log_) log_(false, remote_name_, fmt::format("remote write failed, retrying with backoff: {}", why()));
  }
  if (ok || !recoverable) {
    if (ok) {
      int64_t prev = highest_sent_ms_.load();
      while (b.max_t > prev && !highest_sent_ms_.compare_exchange_weak(prev, b.max_t)) {
      }
    } else {
      samples_failed_ += b.samples;
      histograms_failed_ += b.histograms;
    }
    inflight_.reset();
    inflight_samples_ = 0;
    retry_at_ = 0;
    return;
  }
  samples_retried_ += b.samples;
  histograms_retried_ += b.histograms;
  Millis wait = b.backoff;
  if (resp) {
    if (auto ra = retry_after(resp->retry_after)) wait = *ra;
  }
  b.backoff = std::min(b.backoff * 2, cfg_.queue.max_backoff);
  retry_at_ = std::max<Millis>(now + wait, 1);
}

const std::vector<double>& RemoteWriteQueue::send_buckets() {
  static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300};
  return b;
}

RemoteWriteQueue::Stats RemoteWriteQueue::stats() const {
  Stats s;
  {
    std::lock_guard lock(hist_mu_);
    uint64_t running = 0;
    s.send_seconds_cumulative.resize(send_buckets().size());
    for (size_t i = 0; i < s.send_seconds_cumulative.size(); ++i) {
      running += i < send_buckets_.size() ? send_buckets_[i] : 0;
      s.send_seconds_cumulative[i] = running;
    }
    s.send_seconds_sum = send_seconds_sum_;
    s.sends = sends_;
  }
  s.samples_total = samples_total_;
  s.samples_failed = samples_failed_;
  s.samples_retried = samples_retried_;
  s.histograms_total = histograms_total_;
  s.histograms_failed = histograms_failed_;
  s.histograms_retried = histograms_retried_;
  s.samples_dropped = samples_dropped_;
  s.bytes_total = bytes_total_;
  {
    std::lock_guard lock(mu_);
    s.samples_pending = queue_.size();
  }
  s.samples_pending += inflight_samples_;
  s.highest_sent_seconds = static_cast<double>(highest_sent_ms_) / 1000.0;
  return s;
}

RemoteWriter::RemoteWriter(const Clock& clock, RemoteWriteTransportFactory factory, RemoteWriteLog log)
    : clock_(clock), factory_(std::move(factory)), log_(std::move(log)) {}

RemoteWriter::~RemoteWriter() = default;

Result<void> RemoteWriter::apply(const std::vector<config::RemoteWriteConfig>& configs,
                                 const Labels& external_labels) {
  std::vector<std::shared_ptr<RemoteWriteQueue>> next;
  std::vector<std::string> prints;
  std::lock_guard lock(mu_);
  for (const auto& c : configs) {
    std::string print = fingerprint(c, external_labels);
    auto same = std::find(fingerprints_.begin(), fingerprints_.end(), print);
    if (same != fingerprints_.end()) {
      next.push_back(queues_[static_cast<size_t>(same - fingerprints_.begin())]);
    } else {
      auto transport = factory_(c);
      if (!transport) return std::unexpected(transport.error());
      next.push_back(
          std::make_shared<RemoteWriteQueue>(c, external_labels, clock_, std::move(*transport), &cancel_, log_));
    }
    prints.push_back(std::move(print));
  }
  queues_ = std::move(next);
  fingerprints_ = std::move(prints);
  return {};
}

std::vector<std::shared_ptr<RemoteWriteQueue>> RemoteWriter::queues() const {
  std::lock_guard lock(mu_);
  return queues_;
}

size_t RemoteWriter::destinations() const {
  std::lock_guard lock(mu_);
  return queues_.size();
}

void RemoteWriter::append(std::span<const promql::Sample> samples) {
  int64_t max_t = 0;
  for (const auto& s : samples) max_t = std::max(max_t, s.t);
  int64_t prev = highest_appended_ms_.load();
  while (max_t > prev && !highest_appended_ms_.compare_exchange_weak(prev, max_t)) {
  }
  for (const auto& q : queues()) q->append(samples);
}

std::optional<Millis> RemoteWriter::next_due() const {
  std::optional<Millis> due;
  for (const auto& q : queues()) {
    auto d = q->next_due();
    if (d && (!due || *d < *due)) due = d;
  }
  return due;
}

void RemoteWriter::run_due() {
  const Millis now = clock_.now();
  for (const auto& q : queues()) {
    auto d = q->next_due();
    if (d && *d <= now) q->run_due();
  }
}

void RemoteWriter::flush(Millis grace) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace);
  for (const auto& q : queues()) q->flush(until);
}

void RemoteWriter::write_metrics(MetricsWriter& w) const {
  w.single("prometheus_remote_storage_highest_timestamp_in_seconds", "gauge",
           "The newest timestamp of rule output handed to remote write, in Unix seconds.",
           static_cast<double>(highest_appended_ms_) / 1000.0);
  const auto qs = queues();
  if (qs.empty()) return;
  std::vector<RemoteWriteQueue::Stats> stats;
  for (const auto& q : qs) stats.push_back(q->stats());
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    double (*get)(const RemoteWriteQueue::Stats&);
  };
  static const Family kFamilies[] = {
      {"prometheus_remote_storage_samples_total", "counter", "Samples in remote write send attempts (a retried sample counts again).",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.samples_total); }},
      {"prometheus_remote_storage_samples_failed_total", "counter",
       "Samples given up on: the destination refused them with a status that is not retried.",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.samples_failed); }},
      {"prometheus_remote_storage_samples_retried_total", "counter",
       "Samples in send attempts that failed and are retried (transport errors, 5xx, 429).",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.samples_retried); }},
      {"prometheus_remote_storage_histograms_total", "counter",
       "Native histogram samples in remote write send attempts (a retried one counts again).",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.histograms_total); }},
      {"prometheus_remote_storage_histograms_failed_total", "counter",
       "Native histogram samples given up on: the destination refused them with a status that is not retried.",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.histograms_failed); }},
      {"prometheus_remote_storage_histograms_retried_total", "counter",
       "Native histogram samples in send attempts that failed and are retried (transport errors, 5xx, 429).",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.histograms_retried); }},
      {"prometheus_remote_storage_samples_dropped_total", "counter",
       "Samples and native histograms never sent: dropped by write_relabel_configs, or because the queue was "
       "full.",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.samples_dropped); }},
      {"prometheus_remote_storage_samples_pending", "gauge",
       "Samples and native histograms queued or in the batch being sent.",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.samples_pending); }},
      {"prometheus_remote_storage_bytes_total", "counter",
       "Compressed request bytes of send attempts.",
       [](const RemoteWriteQueue::Stats& s) { return static_cast<double>(s.bytes_total); }},
      {"prometheus_remote_storage_queue_highest_sent_timestamp_seconds", "gauge",
       "The newest sample timestamp the destination accepted, in Unix seconds.",
       [](const RemoteWriteQueue::Stats& s) { return s.highest_sent_seconds; }},
  };
  for (const Family& f : kFamilies) {
    w.family(f.name, f.type, f.help);
    for (size_t i = 0; i < qs.size(); ++i)
      w.sample(f.name, {{"remote_name", qs[i]->remote_name()}, {"url", qs[i]->url()}}, f.get(stats[i]));
  }
  w.family("prometheus_remote_storage_sent_batch_duration_seconds", "histogram",
           "How long send attempts took, answered or failed.");
  for (size_t i = 0; i < qs.size(); ++i)
    w.histogram("prometheus_remote_storage_sent_batch_duration_seconds",
                {{"remote_name", qs[i]->remote_name()}, {"url", qs[i]->url()}}, RemoteWriteQueue::send_buckets(),
                stats[i].send_seconds_cumulative, stats[i].send_seconds_sum, stats[i].sends);
}

}  // namespace vigil::rules
