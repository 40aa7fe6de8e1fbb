#pragma once

// A client of etcd v3 through its JSON gateway (/v3/kv/range, put,
// deleterange, txn; /v3/lease/grant, keepalive, revoke; /v3/auth/
// authenticate), on net/'s HTTP client: keys and values are bytes (base64
// on the wire), revisions and lease ids int64 (strings on the wire).
//
// Requests go to the endpoint that last answered; on a transport failure
// the next one is tried, each once per request. With a user name, a token
// is fetched from /v3/auth/authenticate and fetched again when etcd says it
// is no longer valid. Thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/error.h"

namespace vigil::net {

class HttpClient;

struct EtcdOptions {
  std::vector<std::string> endpoints;  // http://host:port or https://host:port
  Millis timeout = 2 * kSecond;        // per request and endpoint
  std::string username;                // empty: no authentication
  std::string password;
  // TLS to etcd (https endpoints): CA, client certificate and key files.
  std::string ca_file, cert_file, key_file;
  bool insecure_skip_verify = false;
};

struct EtcdKv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

// A txn condition, always "equal": the key's create revision, mod revision
// (0 both for a key that does not exist) or value.
struct EtcdCompare {
  enum class Target { kCreate, kMod, kValue };
  Target target = Target::kMod;
  std::string key;
  int64_t revision = 0;
  std::string value;
};

// A txn operation.
struct EtcdOp {
  enum class Kind { kPut, kRange, kDelete };
  Kind kind = Kind::kRange;
  std::string key;
  std::string value;    // kPut
  int64_t lease = 0;    // kPut; 0: none
  bool prefix = false;  // kRange, kDelete: every key starting with `key`
};

struct EtcdTxnResult {
  bool succeeded = false;
  int64_t revision = 0;  // the store's revision after the txn
  // One per operation of the branch that ran: the keys a range found
  // (empty for puts and deletes).
  std::vector<std::vector<EtcdKv>> ranges;
};

struct EtcdRange {
  std::vector<EtcdKv> kvs;
  int64_t revision = 0;  // the store's revision when read
};

class EtcdClient {
 public:
  static Result<std::unique_ptr<EtcdClient>> create(EtcdOptions opts);
  ~EtcdClient();

  Result<int64_t> grant(Millis ttl);  // a lease id
  // Renews a lease; its remaining TTL, 0 when the lease is gone.
  Result<Millis> keepalive(int64_t lease);
  Result<void> revoke(int64_t lease);
  Result<int64_t> put(std::string_view key, std::string_view value, int64_t lease = 0);  // the revision
  // The keys equal to `key` (or starting with it), changed at or after
  // min_mod_revision when that is positive.
  Result<EtcdRange> range(std::string_view key, bool prefix = false, int64_t min_mod_revision = 0);
  Result<int64_t> remove(std::string_view key, bool prefix = false);  // how many were deleted
  // Forgets the history of keys before `revision` (etcd keeps every
  // revision until compacted). A revision already compacted is no error.
  Result<void> compact(int64_t revision);
  Result<EtcdTxnResult> txn(const std::vector<EtcdCompare>& compare, const std::vector<EtcdOp>& success,
                            const std::vector<EtcdOp>& failure);

  // The endpoint last used, for messages.
  std::string endpoint() const;

 private:
  explicit EtcdClient(EtcdOptions opts);
  // POSTs `body` (JSON) to `path`, endpoint after endpoint until one
  // answers; the answer's JSON text. With authentication, a missing or
  // stale token is fetched first.
  Result<std::string> call(std::string_view path, const std::string& body);
  Result<std::string> call_once(size_t endpoint, std::string_view path, const std::string& body,
                                const std::string& token);
  Result<std::string> authenticate(size_t endpoint);

  EtcdOptions opts_;
  std::shared_ptr<HttpClient> http_;
  mutable std::mutex mu_;
  size_t current_ = 0;  // the endpoint that last answered
  std::string token_;   // with authentication
};

// The end of the key range holding every key that starts with `prefix`
// (etcd's range_end): the prefix with its last byte incremented.
std::string etcd_prefix_end(std::string_view prefix);

}  // namespace vigil::net
