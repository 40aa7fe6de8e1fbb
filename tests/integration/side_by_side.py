#!/usr/bin/python3
"""vigil and Alertmanager 0.33 side by side: the same alertmanager.yml and the
same alert go into both, every HTTP integration of both points at its own
capture server on 127.0.0.1, and what each integration sent is compared
request by request: method, path, query, the headers that carry meaning, and
the body field by field (JSON and form bodies parsed; anything else byte for
byte). Firing first, then resolved.

Allowed differences, and only these: vigil names itself where Alertmanager
does ("vigil" for "Alertmanager" in a value: Slack's username, PagerDuty's
client, Opsgenie's source), values that depend on the moment of sending
(SigV4's X-Amz-Date and signature), and, against 0.33, the fields
Alertmanager 0.34 added that vigil already sends (the webhook body's
`routeLabels`), each printed.

Alertmanager 0.33 is looked for in $VIGIL_PEERS_DIR, /opt/vigil-peers (what
`scripts/setup.sh --peers` unpacks) and /opt/peers3. Debian's packaging reads
the default templates from /usr/share/prometheus/alertmanager/, which holds
0.25's on Debian 12: Alertmanager is given 0.33's own default.tmpl through its
`templates:` list (the definitions it loads last win), vigil its built-in ones.

Pushover (a fixed https endpoint) and email (SMTP, see email_smtp.py) are not
compared here; both are printed as skipped with that reason.

Usage: side_by_side.py VIGIL. Exit 0 when every integration agrees, 1 when
one differs, 77 when Alertmanager 0.33 is not installed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture import Capture  # noqa: E402

VIGIL = os.path.abspath(sys.argv[1])
EXTERNAL_URL = "http://alerts.example:9093"
STARTS_AT = "2026-01-02T03:04:05Z"
ENDS_AT = "2026-01-02T03:09:05Z"


def skip(msg):
    print(f"skipped: {msg}")
    sys.exit(77)


# Top-level body fields Alertmanager 0.34 added, sent by vigil; allowed when
# comparing with 0.33, which does not send them.
NEWER_FIELDS = {"routeLabels"}


def find_alertmanager():
    dirs = [os.environ.get("VIGIL_PEERS_DIR", ""), "/opt/vigil-peers", "/opt/peers3"]
    for d in filter(None, dirs):
        binary = os.path.join(d, "usr/bin/prometheus-alertmanager")
        tmpl = os.path.join(d, "usr/share/prometheus/alertmanager/default.tmpl")
        if os.access(binary, os.X_OK) and os.path.exists(tmpl):
            out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
            if "version 0.3" in out:
                return binary, tmpl, "version 0.33" in out
    skip("Alertmanager 0.33 is not installed (scripts/setup.sh --peers)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Each integration: its config entry (P is its capture URL prefix).
INTEGRATIONS = {
    "webhook": "webhook_configs:\n  - url: P/webhook/hook\n",
    "slack": "slack_configs:\n  - api_url: P/slack/services/T0/B0/x\n    channel: '#ops'\n    send_resolved: true\n",
    "pagerduty": "pagerduty_configs:\n  - routing_key: pd-routing-key-1234\n    url: P/pagerduty/v2/enqueue\n",
    "discord": "discord_configs:\n  - webhook_url: P/discord/api/webhooks/1/x\n",
    "msteams": "msteams_configs:\n  - webhook_url: P/msteams/webhookb2/x\n",
    "msteamsv2": "msteamsv2_configs:\n  - webhook_url: P/msteamsv2/workflows/x\n",
    "telegram": "telegram_configs:\n  - api_url: P/telegram\n    bot_token: '123456:tg-token-abcdef'\n    chat_id: -1001234\n",
    "webex": ("webex_configs:\n  - api_url: P/webex/v1/messages\n    room_id: room-1\n"
              "    http_config:\n      authorization:\n        credentials: webex-token-1234\n"),
    "victorops": "victorops_configs:\n  - api_url: P/victorops/alert/\n    api_key: vo-key-1234\n    routing_key: team-a\n",
    "incidentio": "incidentio_configs:\n  - url: P/incidentio/v2/alert_events/alertmanager/src\n    alert_source_token: inc-token-1234\n",
    "mattermost": "mattermost_configs:\n  - webhook_url: P/mattermost/hooks/x\n    channel: ops\n",
    "rocketchat": ("rocketchat_configs:\n  - api_url: P/rocketchat/\n    token: rc-token-1234\n    token_id: rc-user-1234\n"
                   "    channel: '#ops'\n    send_resolved: true\n"),
    "wechat": ("wechat_configs:\n  - api_url: P/wechat/cgi-bin/\n    api_secret: wx-secret-1234\n    corp_id: corp-1\n"
               "    to_user: '@all'\n    agent_id: '1000002'\n    send_resolved: true\n"),
    "opsgenie": "opsgenie_configs:\n  - api_url: P/opsgenie/\n    api_key: og-key-1234\n",
    "jira": "jira_configs:\n  - api_url: P/jira/rest/api/2\n    project: OPS\n    issue_type: Bug\n",
    "sns": ("sns_configs:\n  - api_url: P/sns/\n    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
            "    sigv4:\n      region: us-east-1\n      access_key: AKIDEXAMPLE1234\n      secret_key: sns-secret-key-1234\n"),
}
NOT_COMPARED = {
    "pushover": "its endpoint is fixed (https://api.pushover.net); tests/notifiers/paging_test.cc covers it",
    "email": "not HTTP; tests/integration/email_smtp.py covers it against a real SMTP server",
}
# Headers whose value is the contract; the rest (User-Agent, Host, ...) are the client's own.
HEADERS = ["content-type", "authorization", "x-auth-token", "x-user-id"]
# Values that depend on the moment of sending.
MOMENT_HEADERS = {"sns": ["authorization", "x-amz-date"]}


def config(cap, templates=None):
    receivers = "".join("  " + entry.replace("P/", cap.url("/")) for entry in INTEGRATIONS.values())
    tmpl = f"templates:\n- {templates}\n" if templates else ""
    return (f"global:\n  resolve_timeout: 5m\n{tmpl}route:\n  receiver: all\n  group_by: [alertname]\n"
            f"  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 4h\nreceivers:\n- name: all\n{receivers}")


class Process:
    def __init__(self, name, argv, work):
        self.name = name
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=work)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def post_alerts(port, ends_at=None):
    alert = {"labels": {"alertname": "SideBySide", "severity": "critical", "instance": "db-1:9100", "job": "node"},
             "annotations": {"summary": "Disk <full> & more", "description": "db-1 has 1% left"},
             "startsAt": STARTS_AT, "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"}
    if ends_at:
        alert["endsAt"] = ends_at
    body = json.dumps([alert]).encode()
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/alerts", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        time.sleep(0.2)
    raise SystemExit(f"FAIL: could not post alerts to 127.0.0.1:{port}")


def wait_for(caps, count_of, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(count_of(c) for c in caps):
            return True
        time.sleep(0.2)
    return False


def parse_body(integration, req):
    raw = req["body"]
    ctype = req["headers"].get("content-type", "")
    if "json" in ctype or raw[:1] in (b"{", b"["):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in ctype:
        return dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
    return raw.decode(errors="replace")


def same_value(a, v, where, diffs, named, newer=frozenset()):
    if isinstance(a, dict) and isinstance(v, dict):
        for k in sorted(set(a) | set(v)):
            if k not in a and k in newer:
                named.append(f"{where}.{k} (added in 0.34)")
            elif k not in a:
                diffs.append(f"{where}.{k}: only vigil sends it: {json.dumps(v[k])[:200]}")
            elif k not in v:
                diffs.append(f"{where}.{k}: only Alertmanager sends it: {json.dumps(a[k])[:200]}")
            else:
                same_value(a[k], v[k], f"{where}.{k}", diffs, named)
    elif isinstance(a, list) and isinstance(v, list):
        if len(a) != len(v):
            diffs.append(f"{where}: {len(a)} items from Alertmanager, {len(v)} from vigil")
        for i, (x, y) in enumerate(zip(a, v)):
            same_value(x, y, f"{where}[{i}]", diffs, named)
    elif a != v:
        if isinstance(a, str) and isinstance(v, str) and a.replace("Alertmanager", "vigil") == v:
            named.append(where)
        else:
            diffs.append(f"{where}:\n      Alertmanager: {json.dumps(a)[:400]}\n      vigil:        {json.dumps(v)[:400]}")


def compare(integration, am_reqs, v_reqs, newer):
    diffs, named = [], []
    if len(am_reqs) != len(v_reqs):
        diffs.append(f"{len(am_reqs)} requests from Alertmanager, {len(v_reqs)} from vigil")
    for i, (a, v) in enumerate(zip(am_reqs, v_reqs)):
        w = f"request {i + 1}"
        for key in ("method", "path"):
            if a[key] != v[key]:
                diffs.append(f"{w} {key}: {a[key]} vs {v[key]}")
        qa, qv = urllib.parse.parse_qs(a["query"], keep_blank_values=True), urllib.parse.parse_qs(v["query"], keep_blank_values=True)
        if qa != qv:
            diffs.append(f"{w} query: {a['query']} vs {v['query']}")
        for h in HEADERS:
            if h in MOMENT_HEADERS.get(integration, []):
                continue
            ha, hv = a["headers"].get(h, ""), v["headers"].get(h, "")
            if h == "content-type":  # parameters aside (charset=utf-8)
                ha, hv = ha.split(";")[0].strip(), hv.split(";")[0].strip()
            if ha != hv:
                diffs.append(f"{w} header {h}: {ha!r} vs {hv!r}")
        for h in MOMENT_HEADERS.get(integration, []):
            if bool(a["headers"].get(h)) != bool(v["headers"].get(h)):
                diffs.append(f"{w} header {h}: sent by only one of them")
        same_value(parse_body(integration, a), parse_body(integration, v), f"{w} body", diffs, named, newer)
    return diffs, named


def phase(name, am_cap, v_cap, before, timeout=40):
    """Waits until both captures hold a request of every integration beyond `before`."""
    def all_in(cap):
        return all(len(cap.of(i)) > before[id(cap)].get(i, 0) for i in INTEGRATIONS)
    if not wait_for([am_cap, v_cap], all_in, timeout):
        pass  # compared as they are: a missing request is a difference
    time.sleep(3)  # follow-up requests of multi-step integrations (Jira, WeChat)
    out = {}
    for i in INTEGRATIONS:
        am_reqs = am_cap.of(i)[before[id(am_cap)].get(i, 0):]
        v_reqs = v_cap.of(i)[before[id(v_cap)].get(i, 0):]
        out[i] = (am_reqs, v_reqs)
    return out


def main():
    am_bin, am_tmpl, is_033 = find_alertmanager()
    newer = NEWER_FIELDS if is_033 else frozenset()
    work = tempfile.mkdtemp(prefix="vigil-sbs-")
    am_cap, v_cap = Capture(), Capture()
    am_port, v_port = free_port(), free_port()
    with open(os.path.join(work, "am.yml"), "w") as f:
        f.write(config(am_cap, am_tmpl))
    with open(os.path.join(work, "vigil.yml"), "w") as f:
        f.write(config(v_cap))
    procs = []
    failed = False
    try:
        procs.append(Process("alertmanager", [am_bin, "--config.file=am.yml", "--storage.path=am-data",
                                              f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
                                              f"--web.external-url={EXTERNAL_URL}"], work))
        procs.append(Process("vigil", [VIGIL, "run", "--alertmanager.config=vigil.yml", "--storage.path=vigil-data",
                                       f"--web.listen-address=127.0.0.1:{v_port}", f"--web.external-url={EXTERNAL_URL}"],
                             work))
        results = {}
        for phase_name, ends_at in (("firing", None), ("resolved", ENDS_AT)):
            before = {id(c): {i: len(c.of(i)) for i in INTEGRATIONS} for c in (am_cap, v_cap)}
            post_alerts(am_port, ends_at)
            post_alerts(v_port, ends_at)
            results[phase_name] = phase(phase_name, am_cap, v_cap, before)
        for i in INTEGRATIONS:
            for phase_name in ("firing", "resolved"):
                am_reqs, v_reqs = results[phase_name][i]
                diffs, named = compare(i, am_reqs, v_reqs, newer)
                if not am_reqs:
                    diffs.insert(0, "Alertmanager sent nothing")
                if diffs:
                    failed = True
                    print(f"DIFFERS {i} ({phase_name}):")
                    for d in diffs:
                        print(f"    {d}")
                else:
                    extra = f"; allowed: {', '.join(named)}" if named else ""
                    print(f"same    {i} ({phase_name}): {len(am_reqs)} request(s){extra}")
        for i, why in NOT_COMPARED.items():
            print(f"skipped {i}: {why}")
    finally:
        for p in procs:
            p.stop()
    if failed:
        print(f"logs and configs kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
