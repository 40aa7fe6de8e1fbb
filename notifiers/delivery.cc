#include "notifiers/delivery.h"

#include <chrono>
#include <deque>
#include <iostream>
#include <random>

#include <fmt/format.h>

#include "notifiers/history.h"
#include "routing/route_labels.h"

namespace vigil::notifiers {

using net::WorkerPool;

using routing::Config;
using routing::IntegrationConfig;
using routing::Notification;

LogFn stderr_log(LogLevel min_level) {
  return [min_level](LogLevel level, std::string_view line) {
    if (level < min_level) return;
    static std::mutex mu;
    std::lock_guard lock(mu);
    std::cerr << line << '\n';
  };
}

// One integration's share of the workers.
struct Delivery::Lane {
  size_t in_flight = 0;
  std::deque<std::shared_ptr<Job>> waiting;
};

// What a configuration needs to deliver: its templates and integrations.
struct Delivery::Prepared {
  std::weak_ptr<const Config> config;
  std::optional<templates::NotificationTemplates> templates;
  std::optional<Error> templates_error;
  std::mutex mu;
  std::map<const IntegrationConfig*, Result<std::unique_ptr<Integration>>> integrations;
  std::map<const IntegrationConfig*, Lane> lanes;
};

struct Delivery::Job {
  Notification n;
  std::shared_ptr<Prepared> prepared;
  Integration* integration = nullptr;
  Lane* lane = nullptr;
  bool holds_lane = false;
  std::string name;  // "webhook[0]"
  Millis deadline = 0;
  Millis handed_at = 0;  // when deliver() was called
  Backoff backoff;
  int attempts = 0;
  std::string last_error;
  FailureReason last_reason = FailureReason::kOther;
  std::function<void(const DeliveryOutcome&)> done;
  IntegrationMetrics* metrics = nullptr;

  Job(const Notification& notification, Backoff b) : n(notification), backoff(b) {}
};

Delivery::Delivery(const Clock& clock, DeliveryOptions opts) : clock_(clock), opts_(std::move(opts)) {
  if (!opts_.log) opts_.log = stderr_log();
  if (opts_.workers == 0) opts_.workers = 1;
  if (opts_.max_in_flight_per_integration == 0)
    opts_.max_in_flight_per_integration = std::max<size_t>(1, opts_.workers / 2);
  if (opts_.seed == 0) opts_.seed = std::random_device{}();
  pool_ = std::make_unique<WorkerPool>(opts_.workers, clock_, opts_.max_queued);
}

Delivery::~Delivery() { stop(); }

void Delivery::drain(std::chrono::milliseconds grace) {
  pool_->wait_idle_until(std::chrono::steady_clock::now() + grace);
}

void Delivery::stop() {
  stopping_ = true;
  pool_->stop();
  // Jobs parked behind a busy integration never reached the pool.
  std::vector<std::shared_ptr<Job>> parked;
  {
    std::lock_guard lock(mu_);
    for (auto& [cfg, p] : prepared_) {
      std::lock_guard plock(p->mu);
      for (auto& [ic, lane] : p->lanes) {
        for (auto& j : lane.waiting) parked.push_back(std::move(j));
        lane.waiting.clear();
      }
    }
  }
  for (auto& j : parked) finish(j, false, FailureReason::kContextCanceled, "delivery stopped");
}

std::shared_ptr<Delivery::Prepared> Delivery::prepared(const std::shared_ptr<const Config>& config) {
  std::lock_guard lock(mu_);
  auto it = prepared_.find(config.get());
  if (it != prepared_.end() && it->second->config.lock() == config) return it->second;
  std::erase_if(prepared_, [](const auto& e) { return e.second->config.expired(); });
  auto p = std::make_shared<Prepared>();
  p->config = config;
  auto t = templates::NotificationTemplates::load(config->templates);
  if (t) p->templates.emplace(std::move(*t));
  else p->templates_error = t.error();
  prepared_[config.get()] = p;
  return p;
}

void Delivery::notify(const Notification& n, std::function<void(bool)> done) {
  deliver(n, [done = std::move(done)](const DeliveryOutcome& o) { done(o.delivered); });
}

void Delivery::deliver(const Notification& n, std::function<void(const DeliveryOutcome&)> done) {
  auto job = std::make_shared<Job>(n, Backoff(opts_.backoff, opts_.seed ^ (n.flush_id * 0x9E3779B97F4A7C15ULL) ^
                                                                   std::hash<std::string>{}(n.group_key)));
  job->done = std::move(done);
  job->name = fmt::format("{}[{}]", n.integration->type, n.integration->index);
  job->handed_at = clock_.now();
  job->deadline = n.deadline > 0 ? n.deadline : job->handed_at + opts_.default_deadline;
  job->metrics = &metrics_.integration(n.integration->type);
  job->metrics->notification();
  job->prepared = prepared(n.config);

  {
    std::lock_guard lock(job->prepared->mu);
    auto it = job->prepared->integrations.find(n.integration);
    if (it == job->prepared->integrations.end())
      it = job->prepared->integrations.emplace(n.integration, make_integration(*n.integration, opts_.integration)).first;
    if (it->second) job->integration = it->second->get();
    job->lane = &job->prepared->lanes[n.integration];
    if (!it->second) {
      job->last_error = it->second.error().message;
    }
  }
  if (job->integration == nullptr) return finish(job, false, FailureReason::kOther, job->last_error);
  if (job->prepared->templates_error)
    return finish(job, false, FailureReason::kOther, "templates: " + job->prepared->templates_error->message);
  schedule(job, 0);
}

void Delivery::schedule(const std::shared_ptr<Job>& job, Millis due) {
  bool queued = pool_->submit(
      [this, job](bool cancelled) {
        if (cancelled) return finish(job, false, FailureReason::kContextCanceled, "delivery stopped");
        start(job);
      },
      due);
  if (!queued) finish(job, false, FailureReason::kOther, "delivery queue full or stopped");
}

void Delivery::start(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard lock(job->prepared->mu);
    if (job->lane->in_flight >= opts_.max_in_flight_per_integration) {
      job->lane->waiting.push_back(job);
      return;
    }
    ++job->lane->in_flight;
    job->holds_lane = true;
  }
  attempt(job);
}

void Delivery::release_lane(const std::shared_ptr<Job>& job) {
  if (!job->holds_lane) return;
  std::shared_ptr<Job> next;
  {
    std::lock_guard lock(job->prepared->mu);
    --job->lane->in_flight;
    job->holds_lane = false;
    if (!job->lane->waiting.empty()) {
      next = std::move(job->lane->waiting.front());
      job->lane->waiting.pop_front();
    }
  }
  if (next) schedule(next, 0);
}

namespace {

templates::NotificationData make_data(const Notification& n, size_t max_alerts, std::string_view external_url,
                                      const templates::NotificationTemplates& t) {
  std::vector<templates::AlertInput> inputs;
  size_t keep = max_alerts > 0 ? std::min(max_alerts, n.alerts.size()) : n.alerts.size();
  inputs.reserve(keep);
  for (size_t i = 0; i < keep; ++i) inputs.push_back(routing::template_alert(*n.alerts[i], n.alerts[i].ends_at()));
  auto d = templates::make_notification_data(n.receiver->name, n.group_labels, inputs, external_url,
                                             templates::go_time_from_unix_millis(n.now));
  d.group_key = n.group_key;
  d.notification_reason = routing::notify_reason_string(n.reason);
  d.truncated_alerts = static_cast<int>(n.alerts.size() - keep);
  if (!n.route_labels.empty()) {
    // Rendered for the group, against all the flush's alerts; a label that
    // does not render is left out, as upstream leaves it out.
    std::vector<templates::AlertInput> group;
    if (n.group_alerts) {
      group.reserve(n.group_alerts->size());
      for (const routing::FlushedAlert& a : *n.group_alerts) group.push_back(routing::template_alert(*a, a.ends_at()));
    }
    d.route_labels = routing::render_route_labels(t, n.route_labels, n.receiver->name, n.group_labels, group,
                                                  external_url, n.now);
    d.route_labels_rendered = true;
  }
  return d;
}

}  // namespace

void Delivery::attempt(const std::shared_ptr<Job>& job) {
  if (stopping_) {
    release_lane(job);
    return finish(job, false, FailureReason::kContextCanceled, "delivery stopped");
  }
  const Millis now = clock_.now();
  if (now >= job->deadline) {
    release_lane(job);
    std::string err = job->last_error.empty() ? "deadline reached before the first attempt" : job->last_error;
    return finish(job, false, job->last_error.empty() ? FailureReason::kDeadlineExceeded : job->last_reason,
                  std::move(err));
  }
  // The template data exists only while an attempt runs: a notification
  // waiting to retry (a receiver down for an hour, thousands of groups)
  // holds its alerts, not their rendered form.
  AttemptResult r;
  auto started = std::chrono::steady_clock::now();
  {
    const templates::NotificationData data =
        make_data(job->n, job->integration->max_alerts(), opts_.external_url, *job->prepared->templates);
    const templates::Value value = templates::notification_value(data);
    Message m{job->n, data, value, *job->prepared->templates, now, job->deadline, &stopping_, opts_.dry_run};
    started = std::chrono::steady_clock::now();
    r = job->integration->send(m);
  }
  Millis latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  ++job->attempts;
  job->metrics->request(r.ok, latency);
  release_lane(job);
  if (r.ok) {
    if (job->attempts > 1) log(LogLevel::kInfo, *job, "Notify success", fmt::format("attempts={}", job->attempts));
    return finish(job, true, FailureReason::kOther, "");
  }
  std::string error = job->integration->redactor().redact(r.error);
  if (stopping_) {
    return finish(job, false, FailureReason::kContextCanceled,
                  fmt::format("delivery stopped after {} attempts: {}", job->attempts, error));
  }
  if (!r.retry || opts_.dry_run != nullptr) {
    return finish(job, false, r.reason,
                  fmt::format("notify retry canceled due to unrecoverable error after {} attempts: {}",
                              job->attempts, error));
  }
  if (error != job->last_error)
    log(LogLevel::kWarn, *job, "Notify attempt failed, will retry later", fmt::format("attempts={} err={:?}",
                                           job->attempts, error));
  job->last_error = error;
  job->last_reason = r.reason;
  const Millis after = clock_.now();
  auto next = next_attempt_at(after, job->backoff.next(), r.retry_after, job->deadline);
  if (!next) {
    return finish(job, false, r.reason,
                  fmt::format("notify retry canceled after {} attempts: deadline reached: {}", job->attempts, error));
  }
  schedule(job, *next);
}

void Delivery::finish(const std::shared_ptr<Job>& job, bool ok, FailureReason reason, std::string error) {
  DeliveryOutcome o;
  o.delivered = ok;
  o.attempts = job->attempts;
  o.reason = reason;
  if (!ok) {
    if (job->integration != nullptr) error = job->integration->redactor().redact(error);
    o.error = std::move(error);
    job->metrics->failed(reason);
    log(LogLevel::kError, *job, "Notify for alerts failed",
        fmt::format("num_alerts={} err={:?}", job->n.alerts.size(), o.error));
  }
  auto done = std::move(job->done);
  job->done = nullptr;
  if (done && opts_.history != nullptr && opts_.dry_run == nullptr) {
    const Millis now = clock_.now();
    opts_.history->record(history_entry(job->n, o, now, now - job->handed_at));
  }
  if (done) done(o);
  if (opts_.on_finished) opts_.on_finished();
}

void Delivery::log(LogLevel level, const Job& job, std::string_view msg, std::string_view fields) {
  static constexpr std::string_view kLevels[] = {"debug", "info", "warn", "error"};
  opts_.log(level, fmt::format("level={} component=dispatcher receiver={} integration={} aggrGroup={:?} msg={:?} {}",
                               kLevels[static_cast<int>(level)], job.n.receiver->name, job.name, job.n.group_key, msg,
                               fields));
}

}  // namespace vigil::notifiers
