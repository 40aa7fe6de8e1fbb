#include "server/forwarder.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "model/json_object.h"
#include "model/timestamp.h"

namespace vigil::server {

namespace {
using json = nlohmann::ordered_json;
}  // namespace

Forwarder::Forwarder(const Clock& clock, Logger& log, Millis file_sd_poll)
    : clock_(clock), log_(log), file_sd_poll_(file_sd_poll), thread_([this] { loop(); }) {}

Forwarder::~Forwarder() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_one();
  }
  thread_.join();
}

void Forwarder::apply(const std::vector<config::AlertmanagerTargetConfig>& configs) {
  std::lock_guard lock(sources_mu_);
  sources_.clear();
  for (const auto& amc : configs) {
    auto client = net::HttpClient::create(&amc.http);
    if (!client) {
      log_.error("alertmanager client not built", {{"component", "notifier"}, {"err", client.error().message}});
      continue;
    }
    Source src{amc, *client, std::make_unique<storage::FileDiscovery>(amc.file_sd_configs, file_sd_poll_)};
    src.discovery->refresh(clock_.now(), true);
    sources_.push_back(std::move(src));
  }
  set_targets(targets_of_sources());
}

void Forwarder::refresh() {
  std::lock_guard lock(sources_mu_);
  bool changed = false;
  const Millis now = clock_.now();
  for (Source& src : sources_) changed = src.discovery->refresh(now, false) || changed;
  if (changed) set_targets(targets_of_sources());
}

std::vector<Forwarder::Target> Forwarder::targets_of_sources() const {
  std::vector<Target> out;
  for (const Source& src : sources_) {
    for (const std::string& url : storage::alertmanager_urls(src.cfg, src.discovery->groups())) {
      out.push_back(Target{url, src.client, src.cfg.timeout});
    }
  }
  return out;
}

void Forwarder::set_targets(std::vector<Target> t) {
  std::lock_guard lock(mu_);
  // An Alertmanager still listed keeps its counters: they are counters, and
  // a discovery file that gains or loses another entry must not reset them.
  for (Target& n : t)
    for (const Target& old : targets_)
      if (old.url == n.url) {
        n.sent = old.sent;
        n.errors = old.errors;
        break;
      }
  targets_ = std::move(t);
}

void Forwarder::push(std::vector<routing::Alert> alerts) {
  std::lock_guard lock(mu_);
  if (targets_.empty()) return;
  for (auto& a : alerts) {
    if (queue_.size() >= kMaxQueue) {
      queue_.pop_front();
      ++dropped_;
    }
    queue_.push_back(std::move(a));
  }
  cv_.notify_one();
}

void Forwarder::write_metrics(MetricsWriter& w) const {
  std::lock_guard lock(mu_);
  w.family("prometheus_notifications_sent_total", "counter", "Alerts sent to external Alertmanagers.");
  for (const auto& t : targets_) {
    w.sample("prometheus_notifications_sent_total", {{"alertmanager", t.url}}, static_cast<double>(t.sent));
  }
  w.family("prometheus_notifications_errors_total", "counter",
           "Alerts that could not be sent to external Alertmanagers.");
  for (const auto& t : targets_) {
    w.sample("prometheus_notifications_errors_total", {{"alertmanager", t.url}}, static_cast<double>(t.errors));
  }
  w.single("prometheus_notifications_dropped_total", "counter", "Alerts dropped because the queue was full.",
           static_cast<double>(dropped_));
}

void Forwarder::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::vector<routing::Alert> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    std::vector<Target> targets = targets_;
    lock.unlock();
    std::string body = encode(batch);
    std::vector<std::pair<std::string, bool>> results;
    for (auto& t : targets) {
      net::HttpRequest req;
      req.url = t.url;
      req.body = body;
      req.timeout = t.timeout;
      auto resp = t.client->send(req);
      bool ok = resp && resp->status / 100 == 2;
      if (!ok) {
        log_.error("Error sending alerts", {{"component", "notifier"}, {"alertmanager", t.url},
                                            {"count", std::to_string(batch.size())},
                                            {"err", resp ? fmt::format("HTTP {}", resp->status) : resp.error().message}});
      }
      results.emplace_back(t.url, ok);
    }
    lock.lock();
    for (auto& t : targets_) {
      for (const auto& [url, ok] : results) {
        if (url != t.url) continue;
        if (ok) {
          t.sent += batch.size();
        } else {
          t.errors += batch.size();
        }
      }
    }
  }
}

std::string Forwarder::encode(const std::vector<routing::Alert>& alerts) {
  json arr = json::array();
  for (const auto& a : alerts) {
    json o;
    o["labels"] = object_of_distinct(a.labels);
    o["annotations"] = object_of_distinct(a.annotations);
    o["startsAt"] = format_rfc3339(a.starts_at);
    o["endsAt"] = format_rfc3339(a.ends_at);
    o["generatorURL"] = a.generator_url;
    arr.push_back(std::move(o));
  }
  return arr.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil::server
