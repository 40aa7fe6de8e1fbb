#include "routing/event_recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "net/http_client.h"
#include "net/worker_pool.h"

namespace vigil::routing {

namespace {

// Whether two configuration values say the same (positions aside).
bool same(const config::ConfigValue& a, const config::ConfigValue& b) {
  using K = config::ConfigValue::Kind;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::Null: return true;
    case K::Bool: return a.as_bool() == b.as_bool();
    case K::Int: return a.as_int() == b.as_int();
    case K::Float: return a.as_float() == b.as_float();
    case K::String: return a.as_string() == b.as_string();
    case K::List:
      return std::equal(a.items().begin(), a.items().end(), b.items().begin(), b.items().end(), same);
    case K::Map:
      return std::equal(a.entries().begin(), a.entries().end(), b.entries().begin(), b.entries().end(),
                        [](const auto& x, const auto& y) { return x.first == y.first && same(x.second, y.second); });
  }
  return false;
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// One JSON line per event, appended to a file. Before each write the path
// is looked at: when it no longer names the open file (renamed or removed
// by log rotation), it is opened again, and created if need be.
class FileOutput final : public EventOutput {
 public:
  static Result<std::unique_ptr<EventOutput>> open(const std::string& path) {
    auto out = std::unique_ptr<FileOutput>(new FileOutput(path));
    if (auto r = out->reopen(); !r) return std::unexpected(r.error());
    return out;
  }
  ~FileOutput() override { close(); }

  const std::string& name() const override { return name_; }

  Result<void> send(const std::string& json) override {
    struct stat st;
    if (fd_ < 0 || ::stat(path_.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_) {
      if (auto r = reopen(); !r) return r;
    }
    std::string line = json;
    line += '\n';
    return write_all(fd_, line);
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  explicit FileOutput(std::string path) : path_(std::move(path)), name_("file:" + path_) {}

  Result<void> reopen() {
    close();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return fail(fmt::format("open {}: {}", path_, std::strerror(errno)));
    struct stat st;
    if (::fstat(fd_, &st) == 0) {
      dev_ = st.st_dev;
      ino_ = st.st_ino;
    }
    return {};
  }

  std::string path_, name_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

class StdoutOutput final : public EventOutput {
 public:
  explicit StdoutOutput(int fd) : fd_(fd) {}
  const std::string& name() const override { return name_; }
  Result<void> send(const std::string& json) override { return write_all(fd_, json + "\n"); }

 private:
  int fd_;
  std::string name_ = "stdout";
};

// The URL without credentials, query or fragment: for metric labels and logs.
std::string sanitize_url(std::string_view url) {
  std::string_view rest = url;
  std::string scheme;
  if (size_t p = rest.find("://"); p != std::string_view::npos) {
    scheme = std::string(rest.substr(0, p + 3));
    rest.remove_prefix(p + 3);
  }
  if (size_t end = rest.find_first_of("?#"); end != std::string_view::npos) rest = rest.substr(0, end);
  size_t host_end = rest.find('/');
  std::string_view authority = rest.substr(0, host_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  return scheme + std::string(authority) + std::string(host_end == std::string_view::npos ? "" : rest.substr(host_end));
}

class WebhookOutput final : public EventOutput {
 public:
  struct Settings {
    std::string url;
    Millis timeout = 10 * kSecond;
    size_t workers = 4;
    int max_retries = 3;
    Millis retry_backoff = 500;
    Millis max_backoff = 30 * kSecond;
    bool batch = false;
    size_t batch_max_events = 100;
    size_t batch_max_bytes = size_t{1} << 20;
    Millis batch_flush_interval = 100;
  };
  static constexpr size_t kQueueSize = 1024;

  WebhookOutput(Settings s, std::shared_ptr<net::HttpClient> client, const Clock& clock,
                std::shared_ptr<EventOutputDrops> drops, EventLogFn log)
      : s_(std::move(s)),
        name_("webhook:" + sanitize_url(s_.url)),
        client_(std::move(client)),
        clock_(clock),
        drops_(std::move(drops)),
        log_(std::move(log)),
        pool_(std::make_unique<net::WorkerPool>(s_.workers, clock, kQueueSize)) {}
  ~WebhookOutput() override { close(); }

  const std::string& name() const override { return name_; }

  Result<void> send(const std::string& json) override {
    if (!s_.batch) {
      if (!submit(std::make_shared<const std::string>(json), 0, 0)) drop(1);
      return {};
    }
    std::lock_guard lock(batch_mu_);
    size_t extra = json.size() + (batch_.empty() ? 0 : 1);
    if (!batch_.empty() && (batch_.size() >= s_.batch_max_events || batch_bytes_ + extra > s_.batch_max_bytes)) {
      flush_locked();
      extra = json.size();
    }
    batch_.push_back(json);
    batch_bytes_ += extra;
    if (batch_.size() == 1) {
      const uint64_t gen = generation_;
      pool_->submit(
          [this, gen](bool cancelled) {
            if (cancelled) return;
            std::lock_guard l(batch_mu_);
            if (generation_ == gen) flush_locked();
          },
          clock_.now() + s_.batch_flush_interval);
    }
    if (batch_.size() >= s_.batch_max_events || batch_bytes_ >= s_.batch_max_bytes) flush_locked();
    return {};
  }

  void close() override {
    if (closed_.exchange(true)) return;
    {
      std::lock_guard lock(batch_mu_);
      flush_locked();
    }
    pool_->wait_idle_until(std::chrono::steady_clock::now() + std::chrono::seconds(30));
    pool_->stop();
  }

  void wake() override { pool_->wake(); }
  void wait_idle() override { pool_->wait_idle(); }

 private:
  void drop(size_t n) {
    for (size_t i = 0; i < n; ++i) drops_->add(name_);
    log("warn", fmt::format("event recorder HTTP output queue full, dropping {} event(s) output={}", n, name_));
  }
  void log(std::string_view level, std::string_view msg) const {
    if (log_) log_(level, msg);
  }

  // The batch as one JSON array, handed to a worker; a fresh batch starts.
  void flush_locked() {
    ++generation_;  // the pending timer of this batch no longer applies
    if (batch_.empty()) return;
    std::string body;
    body.reserve(batch_bytes_);
    body += '[';
    for (size_t i = 0; i < batch_.size(); ++i) {
      if (i > 0) body += ',';
      body += batch_[i];
    }
    body += ']';
    const size_t n = batch_.size();
    batch_.clear();
    batch_bytes_ = 2;
    if (!submit(std::make_shared<const std::string>(std::move(body)), 0, 0)) drop(n);
  }

  bool submit(std::shared_ptr<const std::string> body, int attempt, Millis due) {
    return pool_->submit(
        [this, body, attempt](bool cancelled) {
          if (!cancelled) post(body, attempt);
        },
        due);
  }

  void post(const std::shared_ptr<const std::string>& body, int attempt) {
    net::HttpRequest req;
    req.url = s_.url;
    req.body = *body;
    req.timeout = s_.timeout;
    auto r = client_->send(req);
    std::string err;
    if (!r) err = r.error().message;
    else if (r->status / 100 != 2) err = fmt::format("returned HTTP {}", r->status);
    else return;
    log("warn", fmt::format("event recorder HTTP output POST failed output={} attempt={} err={}", name_,
                            attempt + 1, err));
    if (attempt + 1 >= s_.max_retries) {
      log("error", fmt::format("event recorder HTTP output POST failed after retries, dropping event output={} "
                               "retries={}",
                               name_, s_.max_retries));
      return;
    }
    const Millis wait = std::min(s_.retry_backoff << attempt, s_.max_backoff);
    if (!submit(body, attempt + 1, clock_.now() + wait))
      log("warn", fmt::format("event recorder HTTP output cannot retry, dropping event output={}", name_));
  }

  const Settings s_;
  const std::string name_;
  std::shared_ptr<net::HttpClient> client_;
  const Clock& clock_;
  std::shared_ptr<EventOutputDrops> drops_;
  EventLogFn log_;
  std::atomic<bool> closed_{false};
  std::mutex batch_mu_;
  std::vector<std::string> batch_;
  size_t batch_bytes_ = 2;  // the brackets
  uint64_t generation_ = 0;
  std::unique_ptr<net::WorkerPool> pool_;  // last: its workers stop first
};

}  // namespace

Result<std::vector<std::unique_ptr<EventOutput>>> EventRecorder::build_outputs(
    const config::ConfigValue& block, const EventRecorderOptions& opts, std::shared_ptr<EventOutputDrops> drops) {
  std::vector<std::unique_ptr<EventOutput>> out;
  if (!block.is_map()) return out;
  auto list = [&](std::string_view key) -> const std::vector<config::ConfigValue>& {
    static const std::vector<config::ConfigValue> none;
    const config::ConfigValue* v = block.find(key);
    return v && v->is_list() ? v->items() : none;
  };
  for (const config::ConfigValue& f : list("file_outputs")) {
    auto o = FileOutput::open(std::string(f.str("path")));
    if (!o) return fail("event_recorder file output: " + o.error().message);
    out.push_back(std::move(*o));
  }
  for (const config::ConfigValue& w : list("webhook_outputs")) {
    WebhookOutput::Settings s;
    s.url = std::string(w.str("url"));
    if (w.num("timeout") > 0) s.timeout = w.num("timeout");
    if (w.num("workers") > 0) s.workers = static_cast<size_t>(w.num("workers"));
    if (w.num("max_retries") > 0) s.max_retries = static_cast<int>(w.num("max_retries"));
    if (w.num("retry_backoff") > 0) s.retry_backoff = w.num("retry_backoff");
    s.batch = w.flag("batch");
    if (w.num("batch_max_events") > 0) s.batch_max_events = static_cast<size_t>(w.num("batch_max_events"));
    if (w.num("batch_max_bytes") > 0) s.batch_max_bytes = static_cast<size_t>(w.num("batch_max_bytes"));
    if (w.num("batch_flush_interval") > 0) s.batch_flush_interval = w.num("batch_flush_interval");
    auto client = net::HttpClient::create(w.find("http_config"), opts.clock);
    if (!client) return fail("event_recorder webhook output: " + client.error().message);
    out.push_back(std::make_unique<WebhookOutput>(std::move(s), std::move(*client), *opts.clock, drops, opts.log));
  }
  for (size_t i = 0; i < list("stdout_outputs").size(); ++i)
    out.push_back(std::make_unique<StdoutOutput>(opts.stdout_fd));
  // kafka_outputs: not supported (said when the configuration is loaded).
  return out;
}

EventRecorder::EventRecorder(EventRecorderOptions opts)
    : opts_(std::move(opts)), drops_(std::make_shared<EventOutputDrops>()) {
  if (opts_.threaded) thread_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() { close(); }

void EventRecorder::log(std::string_view level, std::string_view msg) const {
  if (opts_.log) opts_.log(level, msg);
}

Result<void> EventRecorder::apply(const config::ConfigValue& block) {
  std::vector<std::unique_ptr<EventOutput>> old;
  {
    std::lock_guard lock(outputs_mu_);
    if (same(block, current_)) return {};
  }
  auto built = build_outputs(block, opts_, drops_);
  if (!built) {
    log("error", "failed to reload event recorder outputs; keeping existing outputs: " + built.error().message);
    return std::unexpected(built.error());
  }
  {
    std::lock_guard lock(outputs_mu_);
    old = std::exchange(outputs_, std::move(*built));
    current_ = block;
    enabled_ = !outputs_.empty();
  }
  for (auto& o : old) o->close();
  return {};
}

void EventRecorder::record(EventData event) {
  if (!enabled()) return;
  const EventType type = event.type;
  {
    std::lock_guard lock(mu_);
    if (!closed_ && queue_.size() < opts_.queue_size) {
      queue_.push_back(Queued{std::move(event), opts_.clock->now()});
      cv_.notify_one();
      return;
    }
  }
  dropped_[static_cast<size_t>(type)].fetch_add(1, std::memory_order_relaxed);
}

void EventRecorder::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closed and drained
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    write(q);
    lock.lock();
    writing_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

void EventRecorder::process() {
  std::unique_lock lock(mu_);
  while (!queue_.empty()) {
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    write(q);
    lock.lock();
  }
}

void EventRecorder::write(const Queued& q) {
  const size_t type = static_cast<size_t>(q.event.type);
  if (!q.event.valid) {
    serialize_errors_[type].fetch_add(1, std::memory_order_relaxed);
    log("error", fmt::format("failed to encode event: invalid UTF-8 event_type={}", event_type_name(q.event.type)));
    return;
  }
  const std::string json = encode_envelope(q.event, q.at, opts_.instance,
                                           opts_.cluster_position ? opts_.cluster_position() : 0);
  std::lock_guard lock(outputs_mu_);
  for (auto& o : outputs_) {
    auto r = o->send(json);
    {
      std::lock_guard c(counts_mu_);
      OutputCounts& n = counts_[{q.event.type, o->name()}];
      if (r) {
        ++n.success;
        n.bytes += json.size() + (o->name().starts_with("webhook:") ? 0 : 1);
      } else {
        ++n.error;
      }
    }
    if (!r)
      log("error", fmt::format("failed to write event event_type={} output={} err={}", event_type_name(q.event.type),
                               o->name(), r.error().message));
  }
}

void EventRecorder::wait_idle() {
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return (queue_.empty() || !thread_.joinable()) && !writing_; });
  }
  std::lock_guard lock(outputs_mu_);
  for (auto& o : outputs_) o->wait_idle();
}

void EventRecorder::wake() {
  std::lock_guard lock(outputs_mu_);
  for (auto& o : outputs_) o->wake();
}

void EventRecorder::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_ && !thread_.joinable()) return;
    closed_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  process();
  std::vector<std::unique_ptr<EventOutput>> outputs;
  {
    std::lock_guard lock(outputs_mu_);
    outputs = std::move(outputs_);
    outputs_.clear();
    enabled_ = false;
  }
  for (auto& o : outputs) o->close();
}

size_t EventRecorder::queue_length() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void EventRecorder::write_metrics(MetricsWriter& w) const {
  w.family("alertmanager_events_recorded_total", "counter", "The total number of events recorded by the event recorder.");
  std::map<std::pair<EventType, std::string>, OutputCounts> counts;
  {
    std::lock_guard lock(counts_mu_);
    counts = counts_;
  }
  for (const auto& [k, n] : counts) {
    const std::string_view type = event_type_name(k.first);
    if (n.success > 0)
      w.sample("alertmanager_events_recorded_total",
               {{"event_type", type}, {"output", k.second}, {"result", "success"}}, static_cast<double>(n.success));
    if (n.error > 0)
      w.sample("alertmanager_events_recorded_total",
               {{"event_type", type}, {"output", k.second}, {"result", "error"}}, static_cast<double>(n.error));
  }
  w.family("alertmanager_event_recorder_bytes_written_total", "counter",
           "The total number of bytes written to the event recorder.");
  for (const auto& [k, n] : counts)
    if (n.bytes > 0)
      w.sample("alertmanager_event_recorder_bytes_written_total",
               {{"event_type", event_type_name(k.first)}, {"output", k.second}}, static_cast<double>(n.bytes));
  w.family("alertmanager_events_dropped_total", "counter", "The total number of events dropped due to a full queue.");
  for (size_t i = 0; i < kEventTypes; ++i)
    w.sample("alertmanager_events_dropped_total", {{"event_type", event_type_name(static_cast<EventType>(i))}},
             static_cast<double>(dropped_[i].load()));
  w.family("alertmanager_event_serialize_errors_total", "counter",
           "The total number of events that failed to serialize.");
  for (size_t i = 0; i < kEventTypes; ++i)
    if (uint64_t n = serialize_errors_[i].load(); n > 0)
      w.sample("alertmanager_event_serialize_errors_total", {{"event_type", event_type_name(static_cast<EventType>(i))}},
               static_cast<double>(n));
  w.family("alertmanager_event_output_drops_total", "counter",
           "The total number of events dropped by an output due to a full local buffer.");
  {
    std::lock_guard lock(drops_->mu);
    for (const auto& [name, n] : drops_->by_output)
      w.sample("alertmanager_event_output_drops_total", {{"output", name}}, static_cast<double>(n));
  }
  w.single("alertmanager_event_recorder_queue_length", "gauge",
           "Current number of events waiting in the event recorder write queue.", static_cast<double>(queue_length()));
}

}  // namespace vigil::routing
