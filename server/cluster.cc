#include "server/cluster.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "net/sigv4.h"

namespace vigil::server {

using nlohmann::json;

namespace {

// Sent while etcd did not answer and kept for when it does: bounded, the
// oldest dropped first (they only spare other replicas a duplicate).
constexpr size_t kMaxPendingRecords = 10'000;
// How long a lease for log entries is used before a new one is granted:
// entries live between the retention less this and the retention.
constexpr Millis kRetentionLeaseReuse = kHour;
// Everything is merged again this often (and expired silences deleted).
constexpr Millis kFullSyncInterval = kMinute;
// How often the history is compacted, and how much of it is kept.
constexpr Millis kCompactInterval = 5 * kMinute;

}  // namespace

Cluster::Cluster(ClusterOptions opts, const Clock& clock, Logger& log, std::unique_ptr<net::EtcdClient> etcd)
    : opts_(std::move(opts)), clock_(clock), log_(log), etcd_(std::move(etcd)) {
  workers_ = std::make_unique<net::WorkerPool>(std::max<size_t>(1, opts_.claim_workers), clock_);
}

Result<std::unique_ptr<Cluster>> Cluster::create(ClusterOptions opts, const Clock& clock, Logger& log) {
  if (opts.name.empty() || opts.name.find('/') != std::string::npos)
    return fail(fmt::format("cluster: invalid cluster name {:?} (not empty, no '/')", opts.name));
  if (opts.lease_ttl < 2 * kSecond) return fail("cluster: the lease TTL must be at least 2s");
  auto etcd = net::EtcdClient::create(opts.etcd);
  if (!etcd) return std::unexpected(Error{"cluster: " + etcd.error().message});
  return std::unique_ptr<Cluster>(new Cluster(std::move(opts), clock, log, std::move(*etcd)));
}

Cluster::~Cluster() { stop(); }

std::string Cluster::key(std::string_view kind, std::string_view id) const {
  return fmt::format("/vigil/{}/{}/{}", opts_.name, kind, id);
}

std::string Cluster::notification_id(std::string_view group_key, const routing::IntegrationRef& ref) {
  std::string whole;
  whole.reserve(group_key.size() + ref.receiver.size() + 32);
  whole.append(ref.receiver).push_back('\0');
  whole.append(ref.integration).push_back('\0');
  whole.append(std::to_string(ref.index)).push_back('\0');
  whole.append(group_key);
  return net::sigv4::sha256_hex(whole);
}

void Cluster::start(routing::Silences& silences, routing::NotificationLog& nflog, const std::string& default_name,
                    const std::string& default_address) {
  if (opts_.peer_name.empty()) opts_.peer_name = default_name;
  if (opts_.address.empty()) opts_.address = default_address;
  silences_ = &silences;
  nflog_ = &nflog;
  silences.set_observer([this](const routing::Silence& s) {
    {
      std::lock_guard lock(mu_);
      pending_silences_.push_back(s);
    }
    if (loop_) loop_->wake();
  });
  tick();
  loop_ = std::make_unique<Loop>(clock_, nullptr, [this] { tick(); }, opts_.poll_interval);
  loop_->start();
}

void Cluster::stop() {
  if (stopped_.exchange(true)) return;
  if (silences_ != nullptr) silences_->set_observer(nullptr);
  if (loop_) loop_->stop();
  workers_->stop();
  if (const int64_t lease = session_.exchange(0); lease != 0) {
    if (auto r = etcd_->revoke(lease); !r)
      log_.warn("cluster: could not leave (the session ends with its lease)",
                {{"component", "cluster"}, {"err", r.error().message}});
  }
  ready_ = false;
}

void Cluster::went(bool reachable, const std::string& error) {
  if (!reachable) counters_.etcd_errors++;
  const bool was = ready_.exchange(reachable && session_.load() != 0);
  std::lock_guard lock(mu_);
  if (!reachable) {
    need_full_sync_ = true;
    next_keepalive_ = 0;  // the session is checked at the next tick
  }
  if (was && !reachable) {
    log_.error("cluster: etcd does not answer; notifying without claims (duplicates possible) until it does",
               {{"component", "cluster"}, {"endpoint", etcd_->endpoint()}, {"err", error}});
  } else if (!was && reachable && !last_error_.empty()) {
    log_.info("cluster: etcd answers again", {{"component", "cluster"}, {"endpoint", etcd_->endpoint()}});
  }
  last_error_ = reachable ? "" : error;
}

bool Cluster::ensure_session() {
  if (int64_t lease = session_.load(); lease != 0) {
    auto ttl = etcd_->keepalive(lease);
    if (!ttl) {
      went(false, ttl.error().message);
      return false;
    }
    if (*ttl > 0) return true;
    session_ = 0;
    log_.warn("cluster: the session lease expired (etcd was out of reach too long); joining again",
              {{"component", "cluster"}});
  }
  auto id = etcd_->grant(opts_.lease_ttl);
  if (!id) {
    went(false, id.error().message);
    return false;
  }
  json me = {{"name", opts_.peer_name}, {"address", opts_.address}};
  if (auto r = etcd_->put(key("members", opts_.peer_name), me.dump(), *id); !r) {
    went(false, r.error().message);
    return false;
  }
  session_ = *id;
  counters_.sessions++;
  {
    std::lock_guard lock(mu_);
    need_full_sync_ = true;
    claims_.clear();  // those of an earlier session lapsed with it
  }
  log_.info("cluster: joined", {{"component", "cluster"}, {"cluster", opts_.name}, {"peer", opts_.peer_name},
                                {"endpoint", etcd_->endpoint()}});
  return true;
}

void Cluster::tick() {
  if (stopped_) return;
  const Millis now = clock_.now();
  bool keepalive;
  {
    std::lock_guard lock(mu_);
    keepalive = now >= next_keepalive_;
  }
  if (keepalive) {
    if (!ensure_session()) return;
    {
      std::lock_guard lock(mu_);
      next_keepalive_ = now + opts_.lease_ttl / 3;
    }
    refresh_members();
  }
  went(true, "");
  publish_silences();
  flush_records();
  bool full;
  {
    std::lock_guard lock(mu_);
    full = need_full_sync_ || now >= next_full_sync_;
  }
  sync_silences(full);
  compact();
}

void Cluster::compact() {
  const Millis now = clock_.now();
  int64_t to, seen;
  {
    std::lock_guard lock(mu_);
    if (now < next_compaction_) return;
    next_compaction_ = now + kCompactInterval;
    to = compact_to_;
    seen = silence_revision_;  // the store's revision at the last read
    compact_to_ = seen;
    // One replica does it: the first by name among the live ones.
    if (peers_.empty() || peers_.front().name != opts_.peer_name) return;
  }
  if (to <= 0) return;
  if (auto r = etcd_->compact(to); !r) return went(false, r.error().message);
  counters_.compactions++;
}

void Cluster::refresh_members() {
  auto r = etcd_->range(key("members"), true);
  if (!r) return went(false, r.error().message);
  std::vector<Peer> peers;
  for (const auto& kv : r->kvs) {
    try {
      json j = json::parse(kv.value);
      peers.push_back(Peer{j.value("name", ""), j.value("address", "")});
    } catch (const json::exception&) {
      // Not a member record: ignored.
    }
  }
  std::sort(peers.begin(), peers.end(), [](const Peer& a, const Peer& b) { return a.name < b.name; });
  std::lock_guard lock(mu_);
  peers_ = std::move(peers);
}

void Cluster::publish_silences() {
  std::vector<routing::Silence> pending;
  {
    std::lock_guard lock(mu_);
    pending.swap(pending_silences_);
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    std::string value;
    routing::encode_silence(value, pending[i]);
    if (auto r = etcd_->put(key("silences", pending[i].id), value); !r) {
      went(false, r.error().message);
      // Kept for the next attempt, before any change made since.
      std::lock_guard lock(mu_);
      pending_silences_.insert(pending_silences_.begin(), pending.begin() + static_cast<ptrdiff_t>(i), pending.end());
      return;
    }
    counters_.silences_published++;
  }
}

void Cluster::sync_silences(bool full) {
  int64_t from;
  {
    std::lock_guard lock(mu_);
    from = full ? 0 : silence_revision_ + 1;
  }
  auto r = etcd_->range(key("silences"), true, from);
  if (!r) return went(false, r.error().message);
  const Millis now = clock_.now();
  std::map<std::string, Millis> shared;  // id -> updated_at, in a full sync
  for (const auto& kv : r->kvs) {
    auto s = routing::decode_silence(kv.value);
    if (!s) {
      log_.warn("cluster: a silence in etcd cannot be read; left alone", {{"component", "cluster"}, {"key", kv.key}});
      continue;
    }
    if (full) {
      shared[s->id] = s->updated_at;
      if (s->ends_at + opts_.retention <= now) {
        (void)etcd_->remove(kv.key);  // forgotten everywhere; whoever comes first deletes it
        continue;
      }
    }
    auto merged = silences_->merge(*s);
    if (!merged) {
      log_.warn("cluster: a silence from etcd was not taken",
                {{"component", "cluster"}, {"id", s->id}, {"err", merged.error().message}});
    } else if (*merged) {
      counters_.silences_merged++;
    }
  }
  if (full) {
    // What this replica knows better: changed while etcd was out of reach,
    // or never put there.
    for (const routing::Silence& s : silences_->list()) {
      auto it = shared.find(s.id);
      if (it != shared.end() && it->second >= s.updated_at) continue;
      std::string value;
      routing::encode_silence(value, s);
      if (auto p = etcd_->put(key("silences", s.id), value); !p) return went(false, p.error().message);
      counters_.silences_published++;
    }
  }
  std::lock_guard lock(mu_);
  silence_revision_ = std::max(silence_revision_, r->revision);
  if (full) {
    need_full_sync_ = false;
    next_full_sync_ = now + kFullSyncInterval;
  }
}

void Cluster::claim(const std::string& group_key, const routing::IntegrationRef& ref, int64_t revision,
                    std::function<void(Claim)> done) {
  if (!ready_ || stopped_) {
    counters_.unavailable++;
    return done(Claim{Verdict::kUnavailable, std::nullopt, 0});
  }
  auto task = [this, group_key, ref, revision, done](bool cancelled) {
    if (cancelled) {
      counters_.unavailable++;
      return done(Claim{Verdict::kUnavailable, std::nullopt, 0});
    }
    const std::string id = notification_id(group_key, ref);
    const std::string claim_key = key("claims", id), log_key = key("nflog", id);
    const int64_t session = session_.load();
    json mine = {{"peer", opts_.peer_name}, {"at", clock_.now()}};
    using C = net::EtcdCompare;
    using Op = net::EtcdOp;
    auto r = etcd_->txn({C{C::Target::kCreate, claim_key, 0, ""}, C{C::Target::kMod, log_key, revision, ""}},
                        {Op{Op::Kind::kPut, claim_key, mine.dump(), session, false}},
                        {Op{Op::Kind::kRange, claim_key, "", 0, false}, Op{Op::Kind::kRange, log_key, "", 0, false}});
    if (!r) {
      went(false, r.error().message);
      counters_.unavailable++;
      return done(Claim{Verdict::kUnavailable, std::nullopt, 0});
    }
    if (r->succeeded) {
      {
        std::lock_guard lock(mu_);
        claims_[claim_key] = r->revision;
      }
      counters_.claimed++;
      return done(Claim{Verdict::kClaimed, std::nullopt, 0});
    }
    const auto& held = r->ranges.size() > 0 ? r->ranges[0] : std::vector<net::EtcdKv>{};
    const auto& logged = r->ranges.size() > 1 ? r->ranges[1] : std::vector<net::EtcdKv>{};
    const int64_t log_revision = logged.empty() ? 0 : logged[0].mod_revision;
    if (log_revision != revision) {
      counters_.changed++;
      Claim c{Verdict::kChanged, std::nullopt, log_revision};
      if (!logged.empty()) c.current = routing::decode_nflog_entry(logged[0].value);
      return done(std::move(c));
    }
    // A claim of this replica's session that no delivery holds (its release
    // did not reach etcd): let it go, so that the next flush may claim.
    if (!held.empty() && held[0].lease == session) {
      bool stale;
      {
        std::lock_guard lock(mu_);
        stale = !claims_.contains(claim_key);
      }
      if (stale) (void)etcd_->txn({C{C::Target::kCreate, claim_key, held[0].create_revision, ""}},
                                  {Op{Op::Kind::kDelete, claim_key, "", 0, false}}, {});
    }
    counters_.busy++;
    return done(Claim{Verdict::kBusy, std::nullopt, 0});
  };
  if (!workers_->submit(std::move(task))) {
    counters_.unavailable++;
    done(Claim{Verdict::kUnavailable, std::nullopt, 0});
  }
}

Result<int64_t> Cluster::retention_lease() {
  const Millis now = clock_.now();
  {
    std::lock_guard lock(mu_);
    if (retention_lease_ != 0 && now - retention_lease_at < kRetentionLeaseReuse) return retention_lease_;
  }
  auto id = etcd_->grant(opts_.retention);
  if (!id) return id;
  std::lock_guard lock(mu_);
  retention_lease_ = *id;
  retention_lease_at = now;
  return *id;
}

void Cluster::record(const routing::NflogEntry& entry, bool claimed) {
  const std::string id = notification_id(entry.group_key, entry.receiver);
  const std::string claim_key = key("claims", id), log_key = key("nflog", id);
  int64_t claim_revision = 0;
  if (claimed) {
    std::lock_guard lock(mu_);
    if (auto it = claims_.find(claim_key); it != claims_.end()) {
      claim_revision = it->second;
      claims_.erase(it);
    }
  }
  auto keep = [&](const std::string& err) {
    went(false, err);
    counters_.record_failures++;
    std::lock_guard lock(mu_);
    if (pending_records_.size() >= kMaxPendingRecords) pending_records_.erase(pending_records_.begin());
    pending_records_.push_back(entry);
  };
  auto lease = retention_lease();
  if (!lease) return keep(lease.error().message);
  using C = net::EtcdCompare;
  using Op = net::EtcdOp;
  const Op put{Op::Kind::kPut, log_key, routing::encode_nflog_entry(entry), *lease, false};
  Result<net::EtcdTxnResult> r;
  if (claimed) {
    // The claim is let go with the record.
    r = etcd_->txn({C{C::Target::kCreate, claim_key, claim_revision, ""}},
                   {put, Op{Op::Kind::kDelete, claim_key, "", 0, false}}, {});
  }
  if (!claimed || (r && !r->succeeded)) {
    // Sent without a claim (etcd was out of reach), or the claim lapsed
    // while sending (this replica out of reach longer than its lease):
    // recorded unless another replica recorded a notification since this
    // one's decision.
    r = etcd_->txn({C{C::Target::kMod, log_key, entry.revision, ""}}, {put}, {});
  }
  if (!r) return keep(r.error().message);
  counters_.recorded++;
  if (r->succeeded) nflog_->adopt(entry.group_key, entry.receiver, nullptr, r->revision);
}

void Cluster::delivered(const routing::NflogEntry& entry, bool claimed) {
  if (stopped_) return;
  // Recorded at once, on the delivering thread: until the record is in
  // etcd, a crash of this replica makes another send the notification
  // again, so that window is kept to one round trip, never a queue.
  if (!ready_) {
    counters_.record_failures++;
    std::lock_guard lock(mu_);
    // Its claim, if etcd kept it, is found stale by the next claim.
    if (claimed) claims_.erase(key("claims", notification_id(entry.group_key, entry.receiver)));
    if (pending_records_.size() >= kMaxPendingRecords) pending_records_.erase(pending_records_.begin());
    pending_records_.push_back(entry);
    return;
  }
  record(entry, claimed);
}

void Cluster::released(const std::string& group_key, const routing::IntegrationRef& ref) {
  const std::string claim_key = key("claims", notification_id(group_key, ref));
  int64_t claim_revision = 0;
  {
    std::lock_guard lock(mu_);
    auto it = claims_.find(claim_key);
    if (it == claims_.end()) return;
    claim_revision = it->second;
    claims_.erase(it);
  }
  if (stopped_) return;
  (void)workers_->submit([this, claim_key, claim_revision](bool cancelled) {
    if (cancelled) return;
    using C = net::EtcdCompare;
    using Op = net::EtcdOp;
    // Not let go (etcd out of reach): the next claim finds it stale.
    if (auto r = etcd_->txn({C{C::Target::kCreate, claim_key, claim_revision, ""}},
                            {Op{Op::Kind::kDelete, claim_key, "", 0, false}}, {});
        !r)
      went(false, r.error().message);
  });
}

void Cluster::flush_records() {
  std::vector<routing::NflogEntry> pending;
  {
    std::lock_guard lock(mu_);
    pending.swap(pending_records_);
  }
  for (const auto& e : pending) {
    record(e, false);
    if (!ready_) return;  // the rest went back to pending_records_ in record()
  }
}

Cluster::Status Cluster::status() const {
  std::lock_guard lock(mu_);
  Status s;
  s.name = opts_.peer_name;
  s.status = ready_ ? "ready" : "settling";
  s.peers = peers_;
  s.last_error = last_error_;
  return s;
}

uint32_t Cluster::position() const {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i].name == opts_.peer_name) return static_cast<uint32_t>(i);
  return 0;
}

void Cluster::write_metrics(MetricsWriter& w) const {
  size_t peers;
  {
    std::lock_guard lock(mu_);
    peers = peers_.size();
  }
  w.single("vigil_cluster_ready", "gauge", "Whether etcd answers and this replica holds its session (1) or not (0).",
          ready_ ? 1.0 : 0.0);
  w.single("vigil_cluster_peers", "gauge", "Live replicas of the cluster, this one included, at the last look.",
          static_cast<double>(peers));
  w.family("vigil_cluster_claims_total", "counter",
           "Claims to send a notification, by outcome (unavailable: sent without one, etcd out of reach).");
  for (const auto& [result, n] : {std::pair{"claimed", &counters_.claimed}, std::pair{"changed", &counters_.changed},
                                  std::pair{"busy", &counters_.busy}, std::pair{"unavailable", &counters_.unavailable}})
    w.sample("vigil_cluster_claims_total", {{"result", result}}, static_cast<double>(n->load()));
  w.single("vigil_cluster_records_total", "counter", "Notifications recorded in the shared log.",
            static_cast<double>(counters_.recorded.load()));
  w.single("vigil_cluster_record_failures_total", "counter", "Notifications not recorded in the shared log at once.",
            static_cast<double>(counters_.record_failures.load()));
  w.single("vigil_cluster_silences_published_total", "counter", "Silence changes put to etcd.",
            static_cast<double>(counters_.silences_published.load()));
  w.single("vigil_cluster_silences_merged_total", "counter", "Silence changes of other replicas taken from etcd.",
            static_cast<double>(counters_.silences_merged.load()));
  w.single("vigil_cluster_etcd_errors_total", "counter", "Requests to etcd that failed.",
            static_cast<double>(counters_.etcd_errors.load()));
  w.single("vigil_cluster_compactions_total", "counter", "Compactions of etcd's history made by this replica.",
           static_cast<double>(counters_.compactions.load()));
  w.single("vigil_cluster_sessions_total", "counter", "Sessions (leases) this replica started: 1 unless it had to join again.",
            static_cast<double>(counters_.sessions.load()));
}

}  // namespace vigil::server
