#include "notifiers/telegram.h"

#include <charconv>

#include <fmt/format.h>

#include "notifiers/render.h"

namespace vigil::notifiers {

using net::read_credential;

using net::HttpRequest;
using net::Redactor;

using config::ConfigValue;

namespace {

constexpr size_t kMaxMessageRunes = 4096;

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

Result<std::unique_ptr<Integration>> Telegram::create(const ConfigValue& settings) {
  auto t = std::make_unique<Telegram>();
  if (auto ok = t->init(settings, "telegram"); !ok) return std::unexpected(ok.error());
  if (!settings.has("bot_token") && !settings.has("bot_token_file"))
    return fail("telegram: missing bot_token or bot_token_file");
  return std::unique_ptr<Integration>(std::move(t));
}

AttemptResult Telegram::send(const Message& m) {
  Renderer r(m.templates, m.value);
  const std::string parse_mode(settings_.str("parse_mode"));
  std::string text;
  if (parse_mode == "HTML") {
    text = r.html(settings_.str("message"));
    if (rune_count(text) > kMaxMessageRunes)
      text = "Notification could not be sent in full: the message exceeds Telegram's length limit. "
             "Please check the template that produces it.";
  } else {
    text = truncate_runes(r.text(settings_.str("message")), kMaxMessageRunes);
  }
  if (r.error()) return AttemptResult::permanent("telegram: template: " + r.error()->message);
  auto token = read_credential(settings_, "bot_token", "bot_token_file");
  if (!token) return AttemptResult::transient("read bot_token_file: " + token.error().message);
  int64_t chat_id = settings_.num("chat_id");
  if (chat_id == 0 && settings_.has("chat_id_file")) {
    auto content = read_credential(settings_, "", "chat_id_file");
    if (!content) return AttemptResult::transient("read chat_id_file: " + content.error().message);
    auto [end, ec] = std::from_chars(content->data(), content->data() + content->size(), chat_id);
    if (ec != std::errc() || end != content->data() + content->size())
      return AttemptResult::transient(fmt::format("chat_id_file: expected an integer chat id, got {:?}", *content));
  }
  // As Alertmanager's Bot API client sends them: every parameter a string,
  // keys in sorted order.
  nlohmann::json body = nlohmann::json::object();
  body["chat_id"] = std::to_string(chat_id);
  body["text"] = text;
  body["disable_web_page_preview"] = "true";
  if (!parse_mode.empty()) body["parse_mode"] = parse_mode;
  if (settings_.flag("disable_notifications")) body["disable_notification"] = "true";
  if (int64_t thread = settings_.num("message_thread_id"); thread != 0)
    body["message_thread_id"] = std::to_string(thread);

  std::string base(settings_.str("api_url"));
  while (!base.empty() && base.back() == '/') base.pop_back();
  Redactor redact = redactor_;
  redact.add(*token);
  HttpRequest req;
  req.url = fmt::format("{}/bot{}/sendMessage", base, *token);
  req.body = go_json(body);
  req.timeout = m.time_left(0);
  auto resp = exchange(m, req);
  AttemptResult res = check_http(resp, m.now);
  if (!res.ok) {
    res.retry = true;
    if (resp) {
      // The Bot API explains failures in its JSON body.
      Json j = Json::parse(resp->body, nullptr, false);
      if (!j.is_discarded() && j.contains("description") && j["description"].is_string())
        res.error = fmt::format("telegram: {} (status {})", j["description"].get<std::string>(), resp->status);
    }
  }
  res.error = redact.redact(res.error);
  return res;
}

}  // namespace vigil::notifiers
