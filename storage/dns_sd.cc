#include "storage/dns_sd.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace vigil::storage {

namespace {

class SystemResolver : public Resolver {
 public:
  Result<std::vector<Record>> lookup(const std::string& name, const std::string& type) override {
    if (type == "A" || type == "AAAA") return addresses(name, type == "A" ? AF_INET : AF_INET6);
    const int qtype = type == "SRV" ? ns_t_srv : type == "MX" ? ns_t_mx : ns_t_ns;
    return records(name, qtype);
  }

 private:
  static Result<std::vector<Record>> addresses(const std::string& name, int family) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
    std::vector<Record> out;
    if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY) return out;
    if (rc != 0) return fail(fmt::format("could not resolve {}: {}", name, ::gai_strerror(rc)));
    for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* addr = a->ai_family == AF_INET
                             ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
                             : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
      if (::inet_ntop(a->ai_family, addr, text, sizeof text) == nullptr) continue;
      Record r{text, 0};
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
    }
    ::freeaddrinfo(res);
    return out;
  }

  static Result<std::vector<Record>> records(const std::string& name, int qtype) {
    struct __res_state state;
    std::memset(&state, 0, sizeof state);
    if (::res_ninit(&state) != 0) return fail("could not read the resolver configuration (/etc/resolv.conf)");
    std::vector<unsigned char> answer(65536);
    const int len = ::res_nsearch(&state, name.c_str(), ns_c_in, qtype, answer.data(), static_cast<int>(answer.size()));
    const int herr = state.res_h_errno;
    ::res_nclose(&state);
    std::vector<Record> out;
    if (len < 0) {
      if (herr == HOST_NOT_FOUND || herr == NO_DATA) return out;
      return fail(fmt::format("could not resolve {}: {}", name, ::hstrerror(herr)));
    }
    ns_msg msg;
    if (::ns_initparse(answer.data(), len, &msg) != 0) return fail(fmt::format("could not resolve {}: malformed answer", name));
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
      ns_rr rr;
      if (::ns_parserr(&msg, ns_s_an, i, &rr) != 0) return fail(fmt::format("could not resolve {}: malformed answer", name));
      if (ns_rr_type(rr) != qtype) continue;  // CNAMEs on the way
      const unsigned char* rdata = ns_rr_rdata(rr);
      const unsigned char* end = rdata + ns_rr_rdlen(rr);
      Record r;
      const unsigned char* host = rdata;
      if (qtype == ns_t_srv) {
        if (end - rdata < 6) continue;
        r.port = static_cast<uint16_t>((rdata[4] << 8) | rdata[5]);
        host = rdata + 6;  // after priority, weight and port
      } else if (qtype == ns_t_mx) {
        if (end - rdata < 2) continue;
        host = rdata + 2;  // after the preference
      }
      char expanded[NS_MAXDNAME];
      if (::dn_expand(ns_msg_base(msg), ns_msg_end(msg), host, expanded, sizeof expanded) < 0) continue;
      r.target = expanded;
      out.push_back(std::move(r));
    }
    return out;
  }
};

std::string host_port(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

}  // namespace

std::shared_ptr<Resolver> system_resolver() { return std::make_shared<SystemResolver>(); }

DnsDiscovery::DnsDiscovery(config::DnsSdConfig cfg, std::shared_ptr<Resolver> resolver)
    : RefreshDiscovery(fmt::format("dns_sd_configs {} {}", cfg.type, fmt::join(cfg.names, ",")), cfg.refresh_interval),
      cfg_(std::move(cfg)),
      resolver_(resolver ? std::move(resolver) : system_resolver()) {}

RefreshDiscovery::Answer DnsDiscovery::fetch() {
  Answer a;
  for (const std::string& name : cfg_.names) {
    ++lookups_;
    auto records = resolver_->lookup(name, cfg_.type);
    if (!records) {
      ++failures_;
      a.error += (a.error.empty() ? "" : "; ") + records.error().message;
      continue;  // the name keeps what it had
    }
    std::vector<TargetGroup>& groups = by_name_[name];
    groups.clear();
    for (const Resolver::Record& r : *records) {
      std::vector<Label> ls{{"__meta_dns_name", name}};
      TargetGroup g;
      if (cfg_.type == "SRV") {
        ls.push_back({"__meta_dns_srv_record_target", r.target + "."});
        ls.push_back({"__meta_dns_srv_record_port", std::to_string(r.port)});
        g.targets.push_back(host_port(r.target, r.port));
      } else {
        if (cfg_.type == "MX") ls.push_back({"__meta_dns_mx_record_target", r.target + "."});
        if (cfg_.type == "NS") ls.push_back({"__meta_dns_ns_record_target", r.target + "."});
        g.targets.push_back(host_port(r.target, cfg_.port));
      }
      g.labels = Labels(ls);
      groups.push_back(std::move(g));
    }
  }
  std::vector<TargetGroup> all;
  for (const std::string& name : cfg_.names) {
    auto it = by_name_.find(name);
    if (it != by_name_.end()) all.insert(all.end(), it->second.begin(), it->second.end());
  }
  a.groups = std::move(all);
  return a;
}

}  // namespace vigil::storage
