// Every configuration of Alertmanager's own config tests (config/testdata,
// read in place from ../shared) loads or fails as it does in Alertmanager
// 0.34; the table is upstream's config_test.go, expected messages included.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "routing/config.h"
#include "tests/shared_corpus.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

const std::string kDir = std::string(VIGIL_SHARED_DIR) + "/conformance/alertmanager/config/";

struct Case {
  const char* file;
  const char* error;  // nullptr: loads; else a part of upstream's message
};

const Case kCases[] = {
    {"conf.empty-fields.yml", nullptr},
    {"conf.good.yml", nullptr},
    {"conf.group-by-all.yml", nullptr},
    {"conf.http-config.good.yml", nullptr},
    {"conf.mattermost-both-webhook-url-and-file.yml",
     "at most one of mattermost_webhook_url & mattermost_webhook_url_file must be configured"},
    {"conf.mattermost-default-webhook-url-file.yml", nullptr},
    {"conf.mattermost-default-webhook-url.yml", nullptr},
    {"conf.mattermost-no-webhook-url.yml", "missing webhook_url or webhook_url_file on mattermost_config"},
    {"conf.mattermost-valid-receiver-both-webhook-url-and-file.yml",
     "at most one of mattermost_webhook_url & mattermost_webhook_url_file must be configured"},
    {"conf.nil-match_re-route.yml", "invalid_label"},
    {"conf.nil-source_match_re-inhibition.yml", "invalid_source_label"},
    {"conf.nil-target_match_re-inhibition.yml", "invalid_target_label"},
    {"conf.opsgenie-both-file-and-apikey.yml",
     "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured"},
    {"conf.opsgenie-default-apikey-file.yml", nullptr},
    {"conf.opsgenie-default-apikey-old-team.yml", "field teams not found in type opsgenie.plain"},
    {"conf.opsgenie-default-apikey.yml", nullptr},
    {"conf.opsgenie-no-apikey.yml", "no global OpsGenie API Key set either inline or in a file"},
    {"conf.rocketchat-both-token-and-tokenfile.yml",
     "at most one of rocketchat_token & rocketchat_token_file must be configured"},
    {"conf.rocketchat-both-tokenid-and-tokenidfile.yml",
     "at most one of rocketchat_token_id & rocketchat_token_id_file must be configured"},
    {"conf.rocketchat-default-token-file.yml", nullptr},
    {"conf.rocketchat-default-token.yml", nullptr},
    {"conf.rocketchat-no-token.yml", "no global Rocketchat Token set either inline or in a file"},
    {"conf.slack-both-file-and-token.yml",
     "at most one of slack_app_token & slack_app_token_file must be configured"},
    {"conf.slack-both-file-and-url.yml",
     "at most one of slack_api_url & slack_api_url_file must be configured"},
    {"conf.slack-both-url-and-token.yml",
     "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must "
     "be configured"},
    {"conf.slack-default-api-url-file.yml", nullptr},
    {"conf.slack-default-app-token.yml", nullptr},
    {"conf.slack-no-api-url-or-token.yml", "no Slack API URL nor App token set either inline or in a file"},
    {"conf.slack-update-message-and-webhook.yml",
     "update_message can only be used with bot tokens. api_url must be set to "
     "https://slack.com/api/chat.postMessage"},
    {"conf.smtp-both-password-and-file.yml",
     "at most one of smtp_auth_password & smtp_auth_password_file must be configured"},
    {"conf.smtp-no-username-or-password.yml", nullptr},
    {"conf.smtp-password-global-and-local.yml", nullptr},
    {"conf.sns-invalid.yml", "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"},
    {"conf.sns-topic-arn.yml", nullptr},
    {"conf.telegram-both-bot-token-and-file.yml",
     "at most one of telegram_bot_token & telegram_bot_token_file must be configured"},
    {"conf.telegram-default-bot-token-file.yml", nullptr},
    {"conf.telegram-default-bot-token.yml", nullptr},
    {"conf.telegram-no-bot-token.yml", "missing bot_token or bot_token_file on telegram_config"},
    {"conf.telegram-valid-receiver-both-bot-token-and-file.yml",
     "at most one of telegram_bot_token & telegram_bot_token_file must be configured"},
    {"conf.victorops-both-file-and-apikey.yml",
     "at most one of victorops_api_key & victorops_api_key_file must be configured"},
    {"conf.victorops-default-apikey-file.yml", nullptr},
    {"conf.victorops-default-apikey.yml", nullptr},
    {"conf.victorops-no-apikey.yml", "no global VictorOps API Key set"},
    {"conf.wechat-both-file-and-secret.yml",
     "at most one of wechat_api_secret & wechat_api_secret_file must be configured"},
    {"conf.wechat-default-api-secret-file.yml", nullptr},
    {"conf.wechat-no-api-secret.yml", "no global Wechat Api Secret set either inline or in a file"},
};

std::string joined(const LoadResult& r) {
  std::string out;
  for (const Error& e : r.errors) out += format_error("", e) + "\n";
  return out;
}

}  // namespace

TEST_CASE("config conformance: each upstream test config loads or fails as in Alertmanager 0.34") {
  VIGIL_NEEDS_SHARED();
  int passed = 0;
  for (const Case& c : kCases) {
    CAPTURE(c.file);
    LoadResult r = load_config(kDir + c.file);
    if (c.error == nullptr) {
      CHECK_MESSAGE(r.ok(), joined(r));
      passed += r.ok();
    } else {
      REQUIRE_FALSE(r.ok());
      bool found = joined(r).find(c.error) != std::string::npos;
      CHECK_MESSAGE(found, joined(r));
      passed += found;
    }
  }
  CHECK(passed == static_cast<int>(std::size(kCases)));
  CHECK(std::size(kCases) == 46);
}

TEST_CASE("config conformance: the example configurations load") {
  for (const char* f : {"/examples/bot-core/alertmanager/config.yml", "/examples/ta-bot/alertmanager/config.yaml"}) {
    CAPTURE(f);
    LoadResult r = load_config(std::string(VIGIL_SOURCE_DIR) + f);
    CHECK_MESSAGE(r.ok(), joined(r));
  }
}

TEST_CASE("config conformance: errors carry the line and column of the offending field") {
  VIGIL_NEEDS_SHARED();
  LoadResult r = load_config(kDir + "conf.opsgenie-default-apikey-old-team.yml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 16);
  CHECK(r.errors[0].column == 9);
  r = load_config(kDir + "conf.sns-invalid.yml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 7);  // the sns_configs item
  CHECK(r.errors[0].column == 9);
}
