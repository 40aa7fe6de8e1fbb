#pragma once

// Routing unit tests, run by `vigil routes test --file=F`: a YAML file of
// alerts, the receivers each must reach and the other alerts that must (or
// must not) inhibit it, checked against an Alertmanager configuration.
//
//   config_file: alertmanager.yml   # relative to this file; --config.file wins
//   tests:
//   - name: critical database alerts page the DB team
//     labels: {service: database, severity: critical}
//     receivers: [team-DB-pager]       # in routing order; [] for none
//   - name: nothing pages on weekends
//     labels: {severity: warning}
//     at: 2024-06-01T10:00:00Z         # time intervals are applied at this time:
//     receivers: []                    # routes muted then notify no one
//   - name: a critical alert inhibits its warning
//     labels: {alertname: DiskFull, severity: warning, cluster: a}
//     firing:                          # other alerts firing meanwhile
//     - {alertname: DiskFull, severity: critical, cluster: a}
//     inhibited: true                  # and/or inhibited_by: [<labels>...]
//
// Output and exit codes follow `promtool test rules`: "Unit Testing:  F",
// then "  SUCCESS" or "  FAILED:" with one entry per failed test; exit 1 when
// a test fails or a file cannot be used.

#include <iosfwd>
#include <string>
#include <vector>

#include "routing/config.h"

namespace vigil::routing {

struct RouteTestOptions {
  std::string config_file;  // overrides each test file's config_file
  LoadOptions load;
};

int run_route_tests(const std::vector<std::string>& files, const RouteTestOptions& opts,
                    std::ostream& out, std::ostream& err);

}  // namespace vigil::routing
