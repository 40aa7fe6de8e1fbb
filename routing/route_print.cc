#include "routing/route_print.h"

namespace vigil::routing {

namespace {

// treeprint's edges, as amtool 0.33 prints them: a continuing edge is "│" and three spaces.
constexpr std::string_view kMid = "\u251c\u2500\u2500 ";
constexpr std::string_view kLast = "\u2514\u2500\u2500 ";
constexpr std::string_view kPipe = "\u2502   ";
constexpr std::string_view kBlank = "    ";

struct Node {
  std::string text;
  std::vector<Node> children;
};

std::string slug(const Route& r, bool show_continue, bool show_receiver) {
  std::string out = r.matchers().empty() ? "default-route" : r.matchers().to_string();
  if (show_continue && r.continue_matching()) out += "  continue: true";
  if (show_receiver) out += "  receiver: " + r.options().receiver;
  return out;
}

void draw(const std::vector<Node>& nodes, const std::string& indent, std::string& out) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    bool last = i + 1 == nodes.size();
    out += indent;
    out += last ? kLast : kMid;
    out += nodes[i].text;
    out += '\n';
    draw(nodes[i].children, indent + std::string(last ? kBlank : kPipe), out);
  }
}

std::string render(const Node& top) {
  std::string out = ".\n";
  draw({top}, "", out);
  return out;
}

Node whole(const Route& r) {
  Node n{slug(r, true, true), {}};
  for (const auto& c : r.routes()) n.children.push_back(whole(*c));
  return n;
}

// As upstream: a child whose own matchers match is followed even when none
// of its children do.
Node matching(const Route& r, const Labels& ls) {
  Node n{slug(r, false, false), {}};
  for (const auto& c : r.routes()) {
    if (!c->matchers().matches(ls)) continue;
    n.children.push_back(matching(*c, ls));
    if (!c->continue_matching()) break;
  }
  if (n.children.empty()) n.text = slug(r, false, true);
  return n;
}

}  // namespace

std::string format_route_tree(const Route& root) { return render(whole(root)); }

std::string format_matching_tree(const Route& root, const Labels& ls) {
  return render(matching(root, ls));
}

Result<MuteStatus> route_mute_status(const Route& route, const TimeIntervals& intervals, Millis t) {
  MuteStatus s;
  const RouteOptions& o = route.options();
  if (!o.active_time_intervals.empty()) {
    auto in = intervals.active(o.active_time_intervals, t);
    if (!in) return std::unexpected(in.error());
    if (in->empty()) {
      s.muted = s.inactive = true;
      s.by = o.active_time_intervals;
      return s;
    }
  }
  if (!o.mute_time_intervals.empty()) {
    auto in = intervals.active(o.mute_time_intervals, t);
    if (!in) return std::unexpected(in.error());
    if (!in->empty()) {
      s.muted = true;
      s.by = std::move(*in);
    }
  }
  return s;
}

}  // namespace vigil::routing
