#include "routing/events.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "model/timestamp.h"
#include "model/xxhash.h"
#include "routing/inhibit.h"
#include "routing/matchers.h"
#include "routing/silence.h"

namespace vigil::routing {

std::string_view event_type_name(EventType t) {
  static constexpr std::array<std::string_view, kEventTypes> names{
      "alertmanager_startup_event", "alertmanager_shutdown_event", "alert_created", "alert_resolved",
      "alert_grouped", "notification", "silence_created", "silence_updated", "silence_muted_alert",
      "inhibition_muted_alert"};
  return names[static_cast<size_t>(t)];
}

namespace {

// The oneof field names of EventData, in JSON.
std::string_view event_json_name(EventType t) {
  static constexpr std::array<std::string_view, kEventTypes> names{
      "alertmanagerStartupEvent", "alertmanagerShutdownEvent", "alertCreated", "alertResolved",
      "alertGrouped", "notification", "silenceCreated", "silenceUpdated", "silenceMutedAlert",
      "inhibitionMutedAlert"};
  return names[static_cast<size_t>(t)];
}

// The length of the UTF-8 sequence at p (Go's DecodeRune rules: no
// overlong forms, no surrogates, nothing past U+10FFFF); 0 when invalid.
size_t utf8_length(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  auto cont = [&](size_t i) { return p + i < end && (p[i] & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;
    if (c == 0xF4 && p[1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

// Writes the JSON of one event payload, as protojson would: members in
// field order, zero values left out.
class Out {
 public:
  std::string s;
  bool valid = true;

  void str(std::string_view v) {
    s += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(v.data());
    const auto* end = p + v.size();
    while (p < end) {
      const unsigned c = *p;
      if (c >= 0x80) {
        size_t n = utf8_length(p, end);
        if (n == 0) {
          valid = false;
          s += "\xEF\xBF\xBD";
          ++p;
          continue;
        }
        s.append(reinterpret_cast<const char*>(p), n);
        p += n;
        continue;
      }
      switch (c) {
        case '"': s += "\\\""; break;
        case '\\': s += "\\\\"; break;
        case '\b': s += "\\b"; break;
        case '\f': s += "\\f"; break;
        case '\n': s += "\\n"; break;
        case '\r': s += "\\r"; break;
        case '\t': s += "\\t"; break;
        default:
          if (c < 0x20) s += fmt::format("\\u{:04x}", c);
          else s += static_cast<char>(c);
      }
      ++p;
    }
    s += '"';
  }

  // An object member's key (a comma first unless the object just opened).
  void key(std::string_view k) {
    if (s.back() != '{' && s.back() != '[') s += ',';
    s += '"';
    s += k;
    s += "\":";
  }
  void open() { s += '{'; }
  void close() { s += '}'; }

  void string_field(std::string_view k, std::string_view v) {
    if (v.empty()) return;
    key(k);
    str(v);
  }
  void u64_field(std::string_view k, uint64_t v) {
    if (v == 0) return;
    key(k);
    s += fmt::format("\"{}\"", v);
  }
  void i64_field(std::string_view k, int64_t v) {
    if (v == 0) return;
    key(k);
    s += fmt::format("\"{}\"", v);
  }
  void bool_field(std::string_view k, bool v) {
    if (!v) return;
    key(k);
    s += "true";
  }
  void time_field(std::string_view k, Millis t) {
    key(k);
    s += '"';
    s += proto_timestamp(t);
    s += '"';
  }
  void enum_field(std::string_view k, std::string_view name, bool zero) {
    if (zero) return;
    key(k);
    s += '"';
    s += name;
    s += '"';
  }
  // A message field: `body` writes its members.
  template <typename F>
  void message(std::string_view k, F body) {
    key(k);
    open();
    body();
    close();
  }
  // A repeated field, left out when empty.
  template <typename T, typename F>
  void repeated(std::string_view k, const std::vector<T>& items, F each) {
    if (items.empty()) return;
    key(k);
    s += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) s += ',';
      each(items[i]);
    }
    s += ']';
  }
};

// LabelSet: {"labels":[{"key":..,"value":..}, ...]}, sorted by name.
void label_set(Out& o, std::string_view k, const Labels& ls) {
  o.message(k, [&] {
    if (ls.size() == 0) return;
    o.key("labels");
    o.s += '[';
    bool first = true;
    for (const LabelView l : ls) {
      if (!first) o.s += ',';
      first = false;
      o.open();
      o.string_field("key", l.name);
      o.string_field("value", l.value);
      o.close();
    }
    o.s += ']';
  });
}

void alert_message(Out& o, std::string_view k, const Alert& a, Millis now) {
  o.message(k, [&] {
    o.u64_field("fingerprint", a.fingerprint());
    o.string_field("name", a.name());
    label_set(o, "labels", a.labels);
    label_set(o, "annotations", a.annotations);
    o.time_field("startsAt", a.starts_at);
    o.time_field("endsAt", a.ends_at);
    o.bool_field("resolved", a.resolved_at(now));
  });
}

void grouped_alert(Out& o, const Alert* details, const Labels& labels, Millis now) {
  o.open();
  o.u64_field("hash", alert_hash(labels));
  if (details != nullptr) alert_message(o, "details", *details, now);
  o.close();
}

std::string_view matcher_type_name(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "TYPE_EQUAL";
    case MatchType::kRegex: return "TYPE_REGEXP";
    case MatchType::kNotEqual: return "TYPE_NOT_EQUAL";
    case MatchType::kNotRegex: return "TYPE_NOT_REGEXP";
  }
  return "TYPE_UNSPECIFIED";
}

void matcher(Out& o, const Matcher& m) {
  o.open();
  o.enum_field("type", matcher_type_name(m.type()), false);
  o.string_field("name", m.name());
  o.string_field("pattern", m.value());
  o.string_field("rendered", format_matcher(m));
  o.close();
}

void matchers(Out& o, std::string_view k, const std::vector<Matcher>& ms) {
  o.repeated(k, ms, [&](const Matcher& m) { matcher(o, m); });
}

void group_info(Out& o, const EventGroup& g) {
  o.message("groupInfo", [&] {
    o.string_field("groupKey", g.group_key);
    label_set(o, "groupLabels", g.group_labels ? *g.group_labels : Labels());
    o.string_field("groupId", group_id(g.group_key));
    o.string_field("receiverName", g.receiver);
    if (g.matchers) matchers(o, "matchers", *g.matchers);
    o.string_field("groupUuid", g.group_uuid);
  });
}

// A silence as upstream's SilenceAsProto renders it: its one matcher set as
// `matchers` and as the only entry of `matcherSets`; annotations are not
// part of it.
void silence_message(Out& o, const Silence& s) {
  o.message("silence", [&] {
    o.string_field("id", s.id);
    matchers(o, "matchers", s.matchers);
    o.time_field("startsAt", s.starts_at);
    o.time_field("endsAt", s.ends_at);
    o.time_field("updatedAt", s.updated_at);
    o.string_field("createdBy", s.created_by);
    o.string_field("comment", s.comment);
    if (!s.matchers.empty()) {
      o.key("matcherSets");
      o.s += "[{";
      matchers(o, "matchers", s.matchers);
      o.s += "}]";
    }
  });
}

void muted_alert(Out& o, const Labels& labels) {
  o.message("mutedAlert", [&] {
    label_set(o, "labels", labels);
    o.u64_field("fingerprint", labels.fingerprint());
  });
}

// {"<eventName>":{ body }}
template <typename F>
EventData event(EventType t, F body) {
  Out o;
  o.open();
  o.message(event_json_name(t), [&] { body(o); });
  o.close();
  return EventData{t, std::move(o.s), o.valid};
}

std::string_view reason_name(NotifyReason r) {
  switch (r) {
    case NotifyReason::kFirstNotification: return "NOTIFY_REASON_FIRST_NOTIFICATION";
    case NotifyReason::kNewAlertsInGroup: return "NOTIFY_REASON_NEW_ALERTS_IN_GROUP";
    case NotifyReason::kNewResolvedAlerts: return "NOTIFY_REASON_NEW_RESOLVED_ALERTS";
    case NotifyReason::kAllAlertsResolved: return "NOTIFY_REASON_ALL_ALERTS_RESOLVED";
    case NotifyReason::kRepeatIntervalElapsed: return "NOTIFY_REASON_REPEAT_INTERVAL_ELAPSED";
    case NotifyReason::kNone: break;
  }
  return "NOTIFY_REASON_UNSPECIFIED";
}

// google.protobuf.Duration in JSON: seconds with 0, 3, 6 or 9 fractional digits.
std::string proto_duration(Millis d) {
  const bool neg = d < 0;
  const uint64_t abs = neg ? static_cast<uint64_t>(-d) : static_cast<uint64_t>(d);
  std::string out = fmt::format("{}{}", neg ? "-" : "", abs / 1000);
  if (abs % 1000 != 0) out += fmt::format(".{:03}", abs % 1000);
  return out + "s";
}

}  // namespace

uint64_t alert_hash(const Labels& labels) {
  std::string b;
  for (const LabelView l : labels) {
    b += l.name;
    b += '\xff';
    b += l.value;
    b += '\xff';
  }
  return xxhash64(b);
}

std::string group_id(std::string_view key) {
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(64);
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

std::string random_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                     lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

std::string proto_timestamp(Millis t) {
  if (t == 0) return "0001-01-01T00:00:00Z";
  int64_t days = t >= 0 ? t / kDay : -((-t + kDay - 1) / kDay);
  Millis in_day = t - days * kDay;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  const int64_t secs = in_day / 1000, ms = in_day % 1000;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
  if (ms != 0) out += fmt::format(".{:03}", ms);
  return out + "Z";
}

EventData startup_event(std::string_view version, std::string_view build_context) {
  return event(EventType::kStartup, [&](Out& o) {
    o.string_field("version", version);
    o.string_field("buildContext", build_context);
  });
}

EventData shutdown_event() {
  return event(EventType::kShutdown, [](Out&) {});
}

EventData alert_created_event(const Alert& a, Millis now) {
  return event(EventType::kAlertCreated, [&](Out& o) { alert_message(o, "alert", a, now); });
}

EventData alert_grouped_event(const Alert& a, const EventGroup& g, Millis now) {
  return event(EventType::kAlertGrouped, [&](Out& o) {
    o.key("alert");
    grouped_alert(o, &a, a.labels, now);
    group_info(o, g);
  });
}

EventData alert_resolved_event(const Alert& a, const EventGroup& g, Millis now) {
  return event(EventType::kAlertResolved, [&](Out& o) {
    o.key("alert");
    grouped_alert(o, &a, a.labels, now);
    group_info(o, g);
  });
}

EventData notification_event(const NotificationEventInfo& n) {
  static const std::vector<FlushedAlert> none;
  auto hashes = [&](Out& o, std::string_view k, const std::vector<FlushedAlert>* list, bool details) {
    o.repeated(k, list ? *list : none, [&](const FlushedAlert& a) {
      if (!details) return grouped_alert(o, nullptr, a->labels, n.now);
      // What the integration was sent: a firing alert without its end.
      Alert shown = *a;
      shown.ends_at = a.ends_at();
      grouped_alert(o, &shown, a->labels, n.now);
    });
  };
  return event(EventType::kNotification, [&](Out& o) {
    hashes(o, "alerts", n.sent, true);
    hashes(o, "firingAlerts", n.firing, false);
    hashes(o, "resolvedAlerts", n.resolved, false);
    hashes(o, "mutedAlerts", n.muted, false);
    group_info(o, n.group);
    o.key("repeatInterval");
    o.s += '"' + proto_duration(n.repeat_interval) + '"';
    o.enum_field("reason", reason_name(n.reason), n.reason == NotifyReason::kNone);
    o.u64_field("flushId", n.flush_id);
    o.message("integration", [&] {
      o.string_field("name", n.integration);
      o.i64_field("index", n.integration_index);
    });
  });
}

EventData silence_created_event(const Silence& s) {
  return event(EventType::kSilenceCreated, [&](Out& o) { silence_message(o, s); });
}

EventData silence_updated_event(const Silence& s) {
  return event(EventType::kSilenceUpdated, [&](Out& o) { silence_message(o, s); });
}

EventData silence_muted_alert_event(const Silence& s, const Labels& labels) {
  return event(EventType::kSilenceMutedAlert, [&](Out& o) {
    silence_message(o, s);
    muted_alert(o, labels);
  });
}

EventData inhibition_muted_alert_event(const InhibitRule& rule, const Labels& labels, uint64_t source) {
  return event(EventType::kInhibitionMutedAlert, [&](Out& o) {
    o.key("inhibitRules");
    o.s += '[';
    o.open();
    matchers(o, "sourceMatchers", rule.source().items());
    matchers(o, "targetMatchers", rule.target().items());
    o.repeated("equalLabels", rule.equal(), [&](const std::string& l) { o.str(l); });
    o.string_field("name", rule.name());
    o.close();
    o.s += ']';
    muted_alert(o, labels);
    if (source != 0) {
      o.key("inhibitingFingerprints");
      o.s += fmt::format("[\"{}\"]", source);
    }
  });
}

std::string encode_envelope(const EventData& e, Millis at, std::string_view instance, uint32_t cluster_position) {
  Out o;
  o.open();
  o.time_field("@timestamp", at);
  o.string_field("instance", instance);
  o.key("data");
  o.s += e.json;
  if (cluster_position != 0) {
    o.key("clusterPosition");
    o.s += std::to_string(cluster_position);
  }
  o.close();
  return std::move(o.s);
}

}  // namespace vigil::routing
