#include "routing/router.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>

namespace vigil::routing {

struct Router::Wiring {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const Route> root;
  std::unique_ptr<Inhibitor> inhibitor;
  std::shared_ptr<NotifyPipeline> pipeline;
  std::shared_ptr<Dispatcher> dispatcher;
};

Router::Router(std::shared_ptr<const Config> config, const Clock& clock, Notifier& notifier, Options opts)
    : clock_(clock),
      notifier_(notifier),
      opts_(std::move(opts)),
      store_(config->global.resolve_timeout),
      silences_(clock, opts_.retention),
      nflog_(clock, opts_.retention) {
  if (!opts_.data_dir.empty()) journal_ = std::make_unique<AlertJournal>(opts_.data_dir);
  silences_.set_event_sink(opts_.events);
  wiring_ = wire(std::move(config));
}

Router::~Router() = default;

std::shared_ptr<Router::Wiring> Router::wire(std::shared_ptr<const Config> config) {
  auto w = std::make_shared<Wiring>();
  w->config = std::move(config);
  w->root = Route::build(w->config->route);
  w->inhibitor = std::make_unique<Inhibitor>(w->config->inhibit_rules);
  w->pipeline = std::make_shared<NotifyPipeline>(
      NotifyPipeline::Parts{w->config, w->inhibitor.get(), &silences_, &nflog_, &notifier_, &marker_, opts_.shared_log,
                            opts_.events});
  // Completions may arrive after a reload replaced this wiring: they reach
  // the dispatcher only while it lives. The pipeline (and through it the
  // inhibitor it reads) stays alive with each flush.
  auto self = std::make_shared<std::weak_ptr<Dispatcher>>();
  std::weak_ptr<Wiring> weak_wiring = w;
  w->dispatcher = std::make_shared<Dispatcher>(
      w->root, clock_,
      [self, pipeline = w->pipeline, weak_wiring](const GroupFlush& f, std::function<void(bool)> done) {
        auto wiring = weak_wiring.lock();  // keeps the inhibitor alive during the flush
        if (!wiring) return done(false);
        pipeline->flush(f, [self, done = std::move(done)](bool ok) {
          if (auto d = self->lock()) done(ok);
        });
      },
      opts_.max_groups, opts_.events);
  *self = w->dispatcher;
  return w;
}

std::shared_ptr<Router::Wiring> Router::current() const {
  std::shared_lock lock(mu_);
  return wiring_;
}

Router::Restored Router::restore() {
  Restored out;
  if (opts_.data_dir.empty()) return out;
  const Millis now = clock_.now();
  auto silences = silences_.open(opts_.data_dir);
  out.damage = std::move(silences.damage);
  out.errors = std::move(silences.errors);
  // Starting without the notification log re-sends what it recorded, once:
  // better than not starting.
  if (auto d = restore_state_file(opts_.data_dir + "/nflog.json", now,
                                  [this](std::string_view text) { return nflog_.restore(text); },
                                  "the notification log starts empty"))
    out.damage.push_back(std::move(*d));
  auto loaded = journal_->load(now);
  out.damage.insert(out.damage.end(), loaded.damage.begin(), loaded.damage.end());
  auto alerts = store_.restore(std::move(loaded.alerts));
  // Inhibition sources are known again before anything can flush; groups
  // re-form and the restored notification log keeps them from re-notifying.
  auto w = current();
  for (const auto& a : alerts) w->inhibitor->put(a);
  for (const auto& a : alerts) w->dispatcher->put(a);
  if (loaded.needs_fold) {
    if (auto r = journal_->compact([this] { return store_.list(); }); !r) out.errors.push_back(r.error());
  }
  return out;
}

Result<void> Router::snapshot() {
  if (opts_.data_dir.empty()) return {};
  if (auto r = nflog_.save(opts_.data_dir + "/nflog.json"); !r) return r;
  if (auto r = silences_.fold(); !r) return r;
  return journal_->compact([this] { return store_.list(); });
}

Result<void> Router::save_changed(SavedVersions& saved) const {
  if (opts_.data_dir.empty()) return {};
  if (uint64_t v = nflog_.version(); v != saved.nflog) {
    if (auto r = nflog_.save(opts_.data_dir + "/nflog.json"); !r) return r;
    saved.nflog = v;
  }
  return {};
}

Result<void> Router::compact() {
  if (!journal_) return {};
  Result<void> out;
  if (silences_.wants_fold()) out = silences_.fold();
  if (journal_->wants_compaction()) {
    if (auto r = journal_->compact([this] { return store_.list(); }); !r && out) out = r;
  }
  return out;
}

Router::LogSyncs Router::log_syncs() const {
  return LogSyncs{journal_ ? journal_->syncs() : 0, silences_.syncs()};
}

Router::PutResult Router::put_alerts(std::vector<Alert> alerts) {
  auto w = current();
  const Millis now = clock_.now();
  PutResult out;
  std::vector<Alert> valid;
  valid.reserve(alerts.size());
  for (Alert& a : alerts) {
    // Upstream validates once the start is known.
    if (a.starts_at == 0) a.starts_at = a.ends_at != 0 ? a.ends_at : now;
    if (auto ok = validate_alert(a); !ok) {
      out.invalid.push_back(ok.error());
      continue;
    }
    valid.push_back(std::move(a));
  }
  // Each part takes its lock once per batch, not once per alert. The store
  // comes before the journal: a fold captures the store after starting a
  // fresh log, so an alert is in the snapshot or in the fresh log.
  const bool recording = opts_.events != nullptr && opts_.events->enabled();
  std::vector<bool> created;
  auto stored = store_.put_all(std::move(valid), now, recording ? &created : nullptr);
  if (recording)
    for (size_t i = 0; i < stored.size(); ++i)
      if (created[i]) opts_.events->record(alert_created_event(*stored[i], now));
  for (const auto& a : stored) w->inhibitor->put(a);
  w->dispatcher->put_all(stored);
  if (journal_) {
    if (auto r = journal_->append(stored); !r) out.storage = r.error();
  }
  return out;
}

size_t Router::run_due() {
  if (clock_.now() < dispatch_hold_.load()) return 0;
  return current()->dispatcher->run_due();
}

std::optional<Millis> Router::next_due() const {
  auto due = current()->dispatcher->next_due();
  if (due) due = std::max(*due, dispatch_hold_.load());
  return due;
}

void Router::hold_dispatch_until(Millis t) { dispatch_hold_.store(t); }

void Router::maintenance() {
  const Millis now = clock_.now();
  store_.gc(now);
  current()->inhibitor->gc(now);
  silences_.gc();
  nflog_.gc();
  std::unordered_set<std::string> keys;
  for (const auto& g : groups()) keys.insert(g.group_key);
  marker_.retain(keys);
}

void Router::reload(std::shared_ptr<const Config> config) {
  store_.set_resolve_timeout(config->global.resolve_timeout);
  auto w = wire(std::move(config));
  for (const auto& a : store_.list()) {
    w->inhibitor->put(a);
    w->dispatcher->put(a);
  }
  std::unique_lock lock(mu_);
  wiring_ = std::move(w);
}

Router::AlertStatus Router::status(const Labels& labels) const {
  AlertStatus s;
  s.silenced_by = silences_.mutes(labels);
  uint64_t by = 0;
  if (current()->inhibitor->mutes(labels, clock_.now(), &by)) s.inhibited_by = by;
  return s;
}

std::shared_ptr<const Config> Router::config() const { return current()->config; }

std::shared_ptr<const Route> Router::route_tree() const { return current()->root; }

std::vector<Dispatcher::GroupInfo> Router::groups() const { return current()->dispatcher->groups(); }

size_t Router::group_count() const { return current()->dispatcher->group_count(); }

}  // namespace vigil::routing
