// What the etcd claim adds to a notification, and what one etcd sustains
// (server/cluster.h). Run by bench/cluster_bench.sh, which starts an etcd on
// 127.0.0.1 and passes its URL and pid.
//
//   sequential  N claims one after another: the latency one notification
//               waits for its claim (p50, p99, max);
//   burst       N claims submitted at once, as when N groups flush in the
//               same second: when the last one is answered, and the rate;
//   sustained   N notifications claimed and recorded (claim, then the log
//               entry put and the claim deleted): notifications per second;
//               then etcd's resident memory, keys and database size.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/clock.h"
#include "net/etcd.h"
#include "routing/nflog.h"
#include "routing/silence.h"
#include "server/cluster.h"
#include "server/log.h"

using namespace vigil;
using Clk = std::chrono::steady_clock;

namespace {

double ms_since(Clk::time_point t0) { return std::chrono::duration<double, std::milli>(Clk::now() - t0).count(); }

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::string proc_status(int pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(field + ":")) return line.substr(field.size() + 1);
  return "?";
}

struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  size_t left = 0;
  void done() {
    std::lock_guard lock(mu);
    if (--left == 0) cv.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return left == 0; });
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: cluster_bench ETCD_URL ETCD_PID [N_LATENCY=1000] [N_SUSTAINED=10000]\n";
    return 2;
  }
  const std::string url = argv[1];
  const int pid = std::atoi(argv[2]);
  const size_t n = argc > 3 ? std::stoul(argv[3]) : 1000;
  const size_t sustained = argc > 4 ? std::stoul(argv[4]) : 10000;

  SystemClock clock;
  server::Logger log(server::Logger::Format::kLogfmt, server::LogLevel::kWarn, std::cerr, clock);
  server::ClusterOptions opts;
  opts.etcd.endpoints = {url};
  opts.name = fmt::format("bench{}", ::getpid());
  if (const char* w = std::getenv("CLAIM_WORKERS")) opts.claim_workers = std::stoul(w);
  auto cluster = server::Cluster::create(opts, clock, log);
  if (!cluster) {
    std::cerr << cluster.error().message << "\n";
    return 1;
  }
  routing::Silences silences(clock);
  routing::NotificationLog nflog(clock);
  (*cluster)->start(silences, nflog, "bench", "http://127.0.0.1:0");
  if (!(*cluster)->ready()) {
    std::cerr << "etcd at " << url << " does not answer\n";
    return 1;
  }
  server::Cluster& c = **cluster;
  const routing::IntegrationRef ref{"team", "webhook", 0};
  auto group = [](const char* kind, size_t i) { return fmt::format("{{}}/{{}}:{{group=\"{}-{}\"}}", kind, i); };

  // Sequential: one claim at a time.
  std::vector<double> lat;
  lat.reserve(n);
  size_t granted = 0;
  for (size_t i = 0; i < n; ++i) {
    Waiter w;
    w.left = 1;
    auto t0 = Clk::now();
    c.claim(group("seq", i), ref, 0, [&](routing::SharedLog::Claim cl) {
      lat.push_back(ms_since(t0));
      if (cl.verdict == routing::SharedLog::Verdict::kClaimed) ++granted;
      w.done();
    });
    w.wait();
  }
  fmt::print("sequential: {} claims ({} granted): p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", n, granted,
             pct(lat, 0.5), pct(lat, 0.99), *std::max_element(lat.begin(), lat.end()));

  // Burst: all at once.
  {
    Waiter w;
    w.left = n;
    std::vector<double> at(n);
    std::atomic<size_t> ok{0};
    auto t0 = Clk::now();
    for (size_t i = 0; i < n; ++i) {
      c.claim(group("burst", i), ref, 0, [&, i](routing::SharedLog::Claim cl) {
        at[i] = ms_since(t0);
        if (cl.verdict == routing::SharedLog::Verdict::kClaimed) ok++;
        w.done();
      });
    }
    w.wait();
    const double total = ms_since(t0);
    fmt::print("burst: {} claims at once ({} granted): all answered in {:.0f} ms ({:.0f} claims/s); "
               "answered by p50 {:.0f} ms, p99 {:.0f} ms\n",
               n, ok.load(), total, static_cast<double>(n) / total * 1000, pct(at, 0.5), pct(at, 0.99));
  }

  // Sustained: claim, then record, for every group.
  {
    Waiter w;
    w.left = sustained;
    auto t0 = Clk::now();
    for (size_t i = 0; i < sustained; ++i) {
      std::string g = group("sus", i);
      c.claim(g, ref, 0, [&, g](routing::SharedLog::Claim cl) {
        if (cl.verdict == routing::SharedLog::Verdict::kClaimed) {
          routing::NflogEntry e = nflog.log(ref, g, {0x1234567890abcdefULL}, {}, 2 * kHour);
          c.delivered(e, true);
        }
        w.done();
      });
    }
    w.wait();
    // Records are put after the claims: wait until each is in etcd (its
    // revision reached the local log).
    size_t recorded = 0;
    while (true) {
      recorded = 0;
      for (size_t i = 0; i < sustained; ++i) {
        auto e = nflog.query(group("sus", i), ref);
        if (e && e->revision > 0) ++recorded;
      }
      if (recorded == sustained || ms_since(t0) > 120'000) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double total = ms_since(t0);
    fmt::print("sustained: {} notifications claimed and recorded ({} recorded) in {:.0f} ms: {:.0f} per second\n",
               sustained, recorded, total, static_cast<double>(sustained) / total * 1000);
  }

  auto etcd = net::EtcdClient::create(opts.etcd);
  auto keys = (*etcd)->range(fmt::format("/vigil/{}/", opts.name), true);
  size_t value_bytes = 0;
  if (keys)
    for (const auto& kv : keys->kvs) value_bytes += kv.key.size() + kv.value.size();
  fmt::print("etcd after {} groups: {} keys under the cluster's prefix ({:.1f} MiB of keys and values); "
             "etcd VmRSS {}, VmHWM {}\n",
             n * 2 + sustained, keys ? keys->kvs.size() : 0, static_cast<double>(value_bytes) / (1 << 20),
             proc_status(pid, "VmRSS"), proc_status(pid, "VmHWM"));
  c.stop();
  return 0;
}
