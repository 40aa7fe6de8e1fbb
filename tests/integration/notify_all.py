#!/usr/bin/python3
"""`vigil notify test` through all 18 integrations against local servers.

One receiver lists every integration Alertmanager has. The HTTP ones point at
a capture server on 127.0.0.1 (tests/integration/capture.py); email at an
aiosmtpd server; Pushover, whose endpoint is fixed (https://api.pushover.net),
goes through `http_config.proxy_url` to a local proxy that intercepts the TLS
tunnel with a certificate made for api.pushover.net, which vigil trusts
through `tls_config.ca_file`. Checks:

- `notify test` says every integration was delivered, exit 0, and each
  server got what that integration sends (path, and a body naming the alert);
- `notify test --dry-run` sends nothing, exits 0, prints one "would send"
  report per integration with method, URL and body, and shows no secret.

Usage: notify_all.py VIGIL. Exits 77 (skipped) without aiosmtpd or openssl.
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture import Capture  # noqa: E402

try:
    from aiosmtpd.controller import Controller
except ImportError as e:
    print(f"skipped: {e} (install python3-aiosmtpd)")
    sys.exit(77)
if shutil.which("openssl") is None:
    print("skipped: openssl is not installed")
    sys.exit(77)

VIGIL = os.path.abspath(sys.argv[1])
SECRETS = ["pd-routing-key-1234", "og-key-1234", "vo-key-1234", "po-token-5678", "po-user-1234", "wx-secret-1234",
           "tg-token-abcdef", "webex-token-1234", "inc-token-1234", "rc-token-1234", "rc-user-1234",
           "sns-secret-key-1234", "jira-password-1234", "smtp-pw-1234"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")


class Mail:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


class InterceptingProxy:
    """An HTTP proxy that answers CONNECT, then plays the server end of the
    TLS tunnel with its own certificate and records the request inside."""

    def __init__(self, cert, key):
        self.requests = []
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    @staticmethod
    def read_head(f):
        lines = []
        while True:
            line = f.readline()
            if not line or line in (b"\r\n", b"\n"):
                return lines
            lines.append(line.decode().rstrip("\r\n"))

    def handle(self, conn):
        try:
            head = self.read_head(conn.makefile("rb"))
            if not head or not head[0].startswith("CONNECT "):
                conn.close()
                return
            target = head[0].split()[1]
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = self.ctx.wrap_socket(conn, server_side=True)
            f = tls.makefile("rb")
            head = self.read_head(f)
            length = 0
            for h in head[1:]:
                if h.lower().startswith("content-length:"):
                    length = int(h.split(":", 1)[1])
            body = f.read(length) if length else b""
            self.requests.append({"target": target, "request_line": head[0], "body": body})
            answer = b'{"status":1,"request":"dry"}'
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                        + str(len(answer)).encode() + b"\r\nConnection: close\r\n\r\n" + answer)
            tls.close()
        except (OSError, ssl.SSLError):
            pass


def config(cap, smtp_port, proxy_port, ca_file):
    P = cap.url("")
    return f"""route:
  receiver: all
receivers:
- name: all
  webhook_configs:
  - url: {P}/webhook/hook
  slack_configs:
  - api_url: {P}/slack/services/T0/B0/x
  pagerduty_configs:
  - routing_key: pd-routing-key-1234
    url: {P}/pagerduty/v2/enqueue
  email_configs:
  - to: ops@example.com
    from: vigil@example.com
    smarthost: 127.0.0.1:{smtp_port}
    require_tls: false
    auth_username: vigil
    auth_password: smtp-pw-1234
  opsgenie_configs:
  - api_url: {P}/opsgenie/
    api_key: og-key-1234
  wechat_configs:
  - api_url: {P}/wechat/cgi-bin/
    api_secret: wx-secret-1234
    corp_id: corp-1
    to_user: '@all'
  victorops_configs:
  - api_url: {P}/victorops/alert/
    api_key: vo-key-1234
    routing_key: team-a
  pushover_configs:
  - user_key: po-user-1234
    token: po-token-5678
    http_config:
      proxy_url: http://127.0.0.1:{proxy_port}
      tls_config:
        ca_file: {ca_file}
  sns_configs:
  - api_url: {P}/sns/
    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
    sigv4:
      region: us-east-1
      access_key: AKIDEXAMPLE1234
      secret_key: sns-secret-key-1234
  telegram_configs:
  - api_url: {P}/telegram
    bot_token: '123456:tg-token-abcdef'
    chat_id: -1001234
  discord_configs:
  - webhook_url: {P}/discord/api/webhooks/1/x
  webex_configs:
  - api_url: {P}/webex/v1/messages
    room_id: room-1
    http_config:
      authorization:
        credentials: webex-token-1234
  msteams_configs:
  - webhook_url: {P}/msteams/webhookb2/x
  msteamsv2_configs:
  - webhook_url: {P}/msteamsv2/workflows/x
  jira_configs:
  - api_url: {P}/jira/rest/api/2
    project: OPS
    issue_type: Bug
    http_config:
      basic_auth:
        username: vigil
        password: jira-password-1234
  incidentio_configs:
  - url: {P}/incidentio/v2/alert_events/alertmanager/src
    alert_source_token: inc-token-1234
  rocketchat_configs:
  - api_url: {P}/rocketchat/
    token: rc-token-1234
    token_id: rc-user-1234
    channel: '#ops'
  mattermost_configs:
  - webhook_url: {P}/mattermost/hooks/x
"""


HTTP_INTEGRATIONS = ["webhook", "slack", "pagerduty", "opsgenie", "wechat", "victorops", "sns", "telegram", "discord",
                     "webex", "msteams", "msteamsv2", "jira", "incidentio", "rocketchat", "mattermost"]
ALL = HTTP_INTEGRATIONS + ["email", "pushover"]


def main():
    work = tempfile.mkdtemp(prefix="vigil-notify-all-")
    cert, key = os.path.join(work, "pushover.pem"), os.path.join(work, "pushover.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=api.pushover.net", "-addext", "subjectAltName=DNS:api.pushover.net", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    cap = Capture()
    mail = Mail()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        smtp_port = s.getsockname()[1]
    smtp = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    proxy = InterceptingProxy(cert, key)
    path = os.path.join(work, "alertmanager.yml")
    with open(path, "w") as f:
        f.write(config(cap, smtp_port, proxy.port, cert))
    try:
        # A dry run first: nothing may reach any server.
        r = subprocess.run([VIGIL, "notify", "test", f"--config.file={path}", "--receiver=all", "--dry-run",
                            "alertname=NotifyAll", "severity=critical"], capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        check(r.returncode == 0, f"dry run exit {r.returncode}:\n{out}")
        for i in ALL:
            check(f"all/{i}[0]: would send" in out, f"dry run reports {i}")
        check(out.count("POST ") >= 15, "dry run shows the POSTs")
        check("SMTP smtp://127.0.0.1" in out, "dry run shows the SMTP exchange")
        check("https://api.pushover.net/1/messages.json?" in out, "dry run shows Pushover's URL")
        check("NotifyAll" in out, "dry run shows bodies")
        leaked = [s for s in SECRETS if s in out]
        check(not leaked, f"dry run shows no secret (shown: {leaked})")
        check(not cap.requests and not mail.messages and not proxy.requests,
              f"dry run sent nothing ({len(cap.requests)} HTTP, {len(mail.messages)} mails, {len(proxy.requests)} proxied)")

        r = subprocess.run([VIGIL, "notify", "test", f"--config.file={path}", "--receiver=all", "--timeout=20s",
                            "alertname=NotifyAll", "severity=critical"], capture_output=True, text=True, timeout=90)
        out = r.stdout + r.stderr
        print(out)
        check(r.returncode == 0, f"notify test exit {r.returncode}")
        for i in ALL:
            check(f"all/{i}[0]: delivered" in out, f"{i} delivered")
        for i in HTTP_INTEGRATIONS:
            got = cap.of(i)
            check(got, f"{i}: the capture server got its request")
            if got:
                last = got[-1]
                check(b"NotifyAll" in last["body"] or i in ("wechat",) and any(b"NotifyAll" in g["body"] for g in got),
                      f"{i}: its body names the alert")
        check(len(mail.messages) == 1 and b"NotifyAll" in mail.messages[0], "the mail arrived and names the alert")
        check(len(proxy.requests) == 1, f"Pushover went through the proxy ({len(proxy.requests)} requests)")
        if proxy.requests:
            p = proxy.requests[0]
            check(p["target"] == "api.pushover.net:443", f"Pushover tunnel to {p['target']}")
            check(p["request_line"].startswith("POST /1/messages.json?") and "token=po-token-5678" in p["request_line"],
                  f"Pushover request {p['request_line'][:80]}")
            check("NotifyAll" in p["request_line"], "Pushover's title names the alert")
        check(not [s for s in SECRETS if s in out], "the report shows no secret")
    finally:
        smtp.stop()
        proxy.sock.close()
    if failures:
        print(f"{len(failures)} check(s) failed; files kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"ok: all {len(ALL)} integrations delivered through vigil notify test; the dry run sent nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
