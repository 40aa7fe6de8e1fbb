#pragma once

// dns_sd_configs as Prometheus runs them: every refresh_interval each name
// is looked up for records of the configured type; each record is a
// target: SRV gives <target>:<port> from the record, A <ip>:<port>, AAAA
// [<ip>]:<port>, MX and NS <host>:<port>, with the configured port. Each
// target carries __meta_dns_name (the name looked up) and, for its type,
// __meta_dns_srv_record_target and __meta_dns_srv_record_port,
// __meta_dns_mx_record_target or __meta_dns_ns_record_target (record
// targets as fully qualified names, with their final dot). A name that does
// not exist has no targets; a name whose lookup fails keeps its previous
// ones.
//
// Lookups go through a Resolver: the system's (getaddrinfo for A and AAAA,
// libresolv's res_nsearch for SRV, MX and NS, both following
// /etc/resolv.conf), or one a test injects.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/prometheus_config.h"
#include "model/error.h"
#include "storage/refresh_discovery.h"

namespace vigil::storage {

class Resolver {
 public:
  virtual ~Resolver() = default;
  // One answer record: an address (A, AAAA) or a host name without its
  // final dot (SRV, MX, NS) and, for SRV, its port.
  struct Record {
    std::string target;
    uint16_t port = 0;
    bool operator==(const Record&) const = default;
  };
  // The records of `type` ("SRV", "A", "AAAA", "MX", "NS") for `name`; a
  // name that does not exist, or has no such records, answers none. An
  // error is a failed lookup (no answer, server failure).
  virtual Result<std::vector<Record>> lookup(const std::string& name, const std::string& type) = 0;
};

std::shared_ptr<Resolver> system_resolver();

class DnsDiscovery : public RefreshDiscovery {
 public:
  DnsDiscovery(config::DnsSdConfig cfg, std::shared_ptr<Resolver> resolver);
  const char* mechanism() const override { return "dns"; }

 private:
  Answer fetch() override;

  config::DnsSdConfig cfg_;
  std::shared_ptr<Resolver> resolver_;
  std::map<std::string, std::vector<TargetGroup>> by_name_;  // the last good answer per name
};

}  // namespace vigil::storage
