#pragma once

// The events Alertmanager's event recorder writes (upstream eventrecorder/,
// the eventrecorderpb.Event message), and the interface through which the
// routing pipeline hands them on.
//
// An event is encoded as protojson encodes that message: field names in
// lowerCamelCase, fields holding their zero value left out, 64-bit integers
// as strings, enums by name, timestamps as RFC 3339 in UTC with 0, 3, 6 or
// 9 fractional digits, durations as seconds ("300s"). The envelope is
// {"@timestamp":...,"instance":...,"data":{"<eventType>":{...}}}. The
// builders below return the JSON of the event's payload (the value of
// "data"); encode_envelope() wraps it.
//
// Recording is opt-in and never slows the pipeline down much: callers ask
// enabled() before building anything, and record() only queues.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "routing/alert.h"
#include "routing/nflog.h"

namespace vigil::routing {

class InhibitRule;
struct Silence;
// The event types, by upstream's names for their oneof fields.
enum class EventType : uint8_t {
  kStartup,
  kShutdown,
  kAlertCreated,
  kAlertResolved,
  kAlertGrouped,
  kNotification,
  kSilenceCreated,
  kSilenceUpdated,
  kSilenceMutedAlert,
  kInhibitionMutedAlert,
};
inline constexpr size_t kEventTypes = 10;
// "alertmanager_startup_event", "alert_created", ...: the label of the
// event recorder's metrics.
std::string_view event_type_name(EventType t);

// One recorded event: its type and the JSON of its payload. `valid` is
// false when a string in it was not UTF-8 (protojson refuses to encode
// such an event; the recorder counts it and writes nothing).
struct EventData {
  EventType type = EventType::kStartup;
  std::string json;
  bool valid = true;
};

// Where the pipeline hands events. Implementations queue and return.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Whether events are recorded at all; when false, callers build nothing.
  virtual bool enabled() const = 0;
  virtual void record(EventData event) = 0;
};

// The aggregation group an event is about (upstream AlertGroupInfo).
struct EventGroup {
  std::string_view group_key;
  const Labels* group_labels = nullptr;
  std::string_view receiver;
  const std::vector<Matcher>* matchers = nullptr;  // the route's; notifications only
  std::string_view group_uuid;                     // notifications only
};

// Upstream's notify hashAlert: XXH64 of the sorted labels as name, 0xff,
// value, 0xff (the alert "hash" of notification events).
uint64_t alert_hash(const Labels& labels);
// The hex SHA-256 of a group key (upstream's group id).
std::string group_id(std::string_view group_key);
// A random (version 4) UUID.
std::string random_uuid();

EventData startup_event(std::string_view version, std::string_view build_context);
EventData shutdown_event();
// `now` decides whether the alert shows as resolved.
EventData alert_created_event(const Alert& a, Millis now);
EventData alert_grouped_event(const Alert& a, const EventGroup& g, Millis now);
EventData alert_resolved_event(const Alert& a, const EventGroup& g, Millis now);

// A delivered notification (upstream records successes only).
struct NotificationEventInfo {
  const std::vector<FlushedAlert>* sent = nullptr;  // what the integration was sent
  const std::vector<FlushedAlert>* firing = nullptr;    // hashes only: the flush's
  const std::vector<FlushedAlert>* resolved = nullptr;  // unmuted firing and resolved alerts
  const std::vector<FlushedAlert>* muted = nullptr;     // silenced or inhibited in the flush
  EventGroup group;
  Millis repeat_interval = 0;
  NotifyReason reason = NotifyReason::kNone;
  uint64_t flush_id = 0;
  std::string_view integration;  // its type: "webhook", "email", ...
  int64_t integration_index = 0;
  Millis now = 0;
};
EventData notification_event(const NotificationEventInfo& n);

EventData silence_created_event(const Silence& s);
EventData silence_updated_event(const Silence& s);
EventData silence_muted_alert_event(const Silence& s, const Labels& alert_labels);
EventData inhibition_muted_alert_event(const InhibitRule& rule, const Labels& alert_labels,
                                       uint64_t source_fingerprint);

// The whole event, one JSON object: {"@timestamp":...,"instance":...,"data":...}.
// `cluster_position`: this replica's place among the live ones, by name (0,
// left out, when alone or first).
std::string encode_envelope(const EventData& e, Millis at, std::string_view instance, uint32_t cluster_position = 0);

// A timestamp as protojson writes google.protobuf.Timestamp (0 is Go's
// zero time, 0001-01-01T00:00:00Z).
std::string proto_timestamp(Millis t);

}  // namespace vigil::routing
