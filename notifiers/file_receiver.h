#pragma once

// vigil's own local receiver (`file_configs`): writes each notification as
// one JSON line (the webhook body) to a file, or to standard output when
// `path` is "-". It needs no outside service, so a first run shows what
// would be sent. Lines from concurrent notifications never interleave.

#include <memory>
#include <string>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class FileReceiver final : public Integration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;

 private:
  std::string path_;
};

}  // namespace vigil::notifiers
