#pragma once

// High availability on etcd: replicas of vigil that share one notification
// log and one set of silences, so that any of them may die and every group
// is still notified exactly once.
//
// Keys, under /vigil/<cluster name>/:
//   members/<peer>   this replica's address, on its session lease: the live
//                    replicas are the keys present;
//   claims/<id>      who is sending a notification (id: a hash of receiver,
//                    integration and group key), on the claimant's session
//                    lease, so that a dead claimant's claim lapses with it;
//   nflog/<id>       the last delivered notification (routing/nflog.h's
//                    entry as JSON), on a lease of the log's retention;
//   silences/<id>    a silence (routing/silence.h's record).
// A claim is one transaction: the claim key does not exist and the log key
// is still at the revision the sender's decision was made on. The winner
// sends, then puts the log entry and deletes its claim in one transaction.
//
// Silences set or expired on a replica are put to etcd at once; every
// replica reads the silences changed since the revision it last saw every
// --cluster.poll-interval and merges them (newest change wins). After a
// (re)connection, both sides are merged in full.
//
// etcd keeps every revision of every key until compacted; the replica first
// by name compacts the history older than five minutes every five minutes.
//
// When etcd cannot be reached, claims answer "unavailable" and the
// pipeline sends anyway (fail open); silence changes wait and are put once
// etcd answers again. The status says "settling" until then.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/metrics_writer.h"
#include "net/etcd.h"
#include "net/worker_pool.h"
#include "routing/nflog.h"
#include "routing/shared_log.h"
#include "routing/silence.h"
#include "server/log.h"
#include "server/loop.h"

namespace vigil::server {

struct ClusterOptions {
  net::EtcdOptions etcd;
  std::string name = "vigil";  // --cluster.name: replicas of one cluster share it
  std::string peer_name;       // --cluster.peer-name: unique per replica
  std::string address;         // shown to the other replicas (the listen address)
  Millis lease_ttl = 5 * kSecond;  // how long a dead replica keeps its claims
  Millis poll_interval = 250;      // how often silences are read
  Millis retention = 120 * kHour;  // of shared log entries
  size_t claim_workers = 16;  // claims and records in flight at once (etcd batches them)
};

class Cluster : public routing::SharedLog {
 public:
  static Result<std::unique_ptr<Cluster>> create(ClusterOptions opts, const Clock& clock, Logger& log);
  ~Cluster() override;

  // Joins (one attempt, bounded by the etcd timeout; when etcd does not
  // answer the replica runs on and keeps trying), then keeps the session
  // alive and the silences in step. `nflog` gets the shared revisions of
  // what this replica records. The peer name and address, when not given
  // in the options, are the defaults passed here.
  void start(routing::Silences& silences, routing::NotificationLog& nflog, const std::string& default_name,
             const std::string& default_address);
  // Leaves: the session lease is revoked, so that the other replicas see
  // at once that this one is gone. Idempotent.
  void stop();

  void claim(const std::string& group_key, const routing::IntegrationRef& ref, int64_t revision,
             std::function<void(Claim)> done) override;
  void delivered(const routing::NflogEntry& entry, bool claimed) override;
  void released(const std::string& group_key, const routing::IntegrationRef& ref) override;

  struct Peer {
    std::string name;
    std::string address;
  };
  struct Status {
    std::string name;    // this replica
    std::string status;  // "ready" (etcd answers, session held) or "settling"
    std::vector<Peer> peers;  // the live replicas, this one included, by name
    std::string last_error;   // why not ready
  };
  Status status() const;
  // This replica's place among the live ones ordered by name (0: first, or
  // alone), as Alertmanager numbers its peers.
  uint32_t position() const;
  bool ready() const { return ready_.load(); }
  void write_metrics(MetricsWriter& w) const;

  // The id naming a notification's claim and log keys.
  static std::string notification_id(std::string_view group_key, const routing::IntegrationRef& ref);

 private:
  Cluster(ClusterOptions opts, const Clock& clock, Logger& log, std::unique_ptr<net::EtcdClient> etcd);
  void tick();
  bool ensure_session();
  void refresh_members();
  void sync_silences(bool full);
  void publish_silences();
  void flush_records();
  void compact();
  Result<int64_t> retention_lease();
  void record(const routing::NflogEntry& entry, bool claimed);
  void went(bool reachable, const std::string& error);
  std::string key(std::string_view kind, std::string_view id = "") const;

  ClusterOptions opts_;  // the names are set by start(), constant after
  const Clock& clock_;
  Logger& log_;
  std::unique_ptr<net::EtcdClient> etcd_;
  std::unique_ptr<net::WorkerPool> workers_;  // claims and releases, off the router's thread
  std::unique_ptr<Loop> loop_;
  routing::Silences* silences_ = nullptr;
  routing::NotificationLog* nflog_ = nullptr;

  std::atomic<int64_t> session_{0};  // the session lease; 0: none
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopped_{false};

  mutable std::mutex mu_;  // guards what follows
  Millis next_keepalive_ = 0;
  Millis next_full_sync_ = 0;
  bool need_full_sync_ = true;
  int64_t silence_revision_ = 0;  // the store revision silences were last read at
  std::vector<routing::Silence> pending_silences_;  // changed here, not yet in etcd
  std::vector<routing::NflogEntry> pending_records_;  // sent while etcd did not answer
  std::map<std::string, int64_t> claims_;  // claim key -> its create revision, while held
  std::vector<Peer> peers_;
  std::string last_error_;
  // etcd keeps every revision until compacted: the first replica by name
  // compacts, every kCompactInterval, to the revision seen one interval
  // before.
  Millis next_compaction_ = 0;
  int64_t compact_to_ = 0;
  int64_t retention_lease_ = 0;
  Millis retention_lease_at = 0;

  struct Counters {
    std::atomic<uint64_t> claimed{0}, changed{0}, busy{0}, unavailable{0};
    std::atomic<uint64_t> recorded{0}, record_failures{0};
    std::atomic<uint64_t> silences_published{0}, silences_merged{0};
    std::atomic<uint64_t> etcd_errors{0}, sessions{0}, compactions{0};
  };
  mutable Counters counters_;
};

}  // namespace vigil::server
