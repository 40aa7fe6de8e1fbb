#!/usr/bin/python3
"""Email delivery against a real SMTP server (aiosmtpd) on 127.0.0.1.

Runs `vigil notify test` against receivers that use plain SMTP, SMTP with
AUTH, and STARTTLS with AUTH, then parses each received message and checks
its envelope, headers, both MIME parts and the rendered content. Also checks
that a wrong password and a missing STARTTLS fail, without the password ever
appearing in vigil's output.

Usage: email_smtp.py VIGIL. Exits 77 (skipped) when aiosmtpd or openssl is
missing.
"""
import email
import email.policy
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings

try:
    import ssl
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError as e:
    print(f"skipped: {e} (install python3-aiosmtpd)")
    sys.exit(77)

if shutil.which("openssl") is None:
    print("skipped: openssl is not installed")
    sys.exit(77)

warnings.filterwarnings("ignore")
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
VIGIL = sys.argv[1]
USER, PASSWORD = "alertbot", "smtp-pw-9d8c7b6a"
failures = []
logins = []  # (mechanism, user, accepted) for every AUTH the servers saw


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")


class Recorder:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "data": envelope.original_content or envelope.content,
            "tls": session.ssl is not None,
            "auth": getattr(session, "authenticated", False),
        })
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    logins.append((mechanism, auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None, ok))
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(**kwargs):
    rec = Recorder()
    port = free_port()
    ctl = Controller(rec, hostname="127.0.0.1", port=port, ready_timeout=10, **kwargs)
    ctl.start()
    return ctl, rec, port


def run_vigil(config_path, receiver, timeout="5s"):
    p = subprocess.run([VIGIL, "notify", "test", f"--config.file={config_path}", "--receiver", receiver,
                        "--timeout", timeout, "--external.url=http://vigil.example:9093",
                        "alertname=DiskFull", "severity=critical", "instance=db-1"],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def config(port, extra, require_tls=False):
    return f"""
global:
  smtp_smarthost: '127.0.0.1:{port}'
  smtp_from: 'vigil <alerts@example.org>'
  smtp_hello: vigil.test
  smtp_require_tls: {'true' if require_tls else 'false'}
route:
  receiver: mail
receivers:
- name: mail
  email_configs:
  - to: 'Ops <ops@example.org>, oncall@example.org'
    headers:
      Subject: 'Störung: {{{{ .GroupLabels.alertname }}}} auf {{{{ .CommonLabels.instance }}}}'
      X-Team: storage
    text: 'Text part: {{{{ .CommonLabels.alertname }}}} is {{{{ .Status }}}} (severity={{{{ .CommonLabels.severity }}}})'
{extra}
"""


def check_message(m, label):
    check(m["from"] == "alerts@example.org", f"{label}: envelope from is {m['from']}")
    check(sorted(m["to"]) == ["ops@example.org", "oncall@example.org"][::-1] or
          sorted(m["to"]) == sorted(["ops@example.org", "oncall@example.org"]), f"{label}: envelope to is {m['to']}")
    msg = email.message_from_bytes(m["data"], policy=email.policy.default)
    check(str(msg["Subject"]) == "Störung: DiskFull auf db-1", f"{label}: subject is {msg['Subject']!r}")
    check("=?utf-8?q?" in m["data"].decode("ascii", "replace").split("\r\n\r\n")[0],
          f"{label}: the non-ASCII subject is RFC 2047 encoded")
    check(msg["From"] == "vigil <alerts@example.org>", f"{label}: From is {msg['From']!r}")
    check("ops@example.org" in msg["To"] and "oncall@example.org" in msg["To"], f"{label}: To is {msg['To']!r}")
    check(msg["X-Team"] == "storage", f"{label}: custom header X-Team is {msg['X-Team']!r}")
    check(msg["Message-Id"] is not None and msg["Message-Id"].startswith("<"), f"{label}: Message-Id present")
    check(msg["Date"] is not None and msg["Date"].datetime is not None, f"{label}: Date parses")
    check(msg["MIME-Version"] == "1.0", f"{label}: MIME-Version")
    check(msg.get_content_type() == "multipart/alternative", f"{label}: content type {msg.get_content_type()}")
    parts = list(msg.iter_parts())
    check(len(parts) == 2, f"{label}: {len(parts)} parts")
    if len(parts) != 2:
        return
    text, html = parts
    check(text.get_content_type() == "text/plain", f"{label}: first part is {text.get_content_type()}")
    check(html.get_content_type() == "text/html", f"{label}: second part is {html.get_content_type()}")
    check(text["Content-Transfer-Encoding"] == "quoted-printable", f"{label}: text part encoding")
    check(text.get_content_charset() == "utf-8", f"{label}: text charset")
    body = text.get_content()
    check(body.strip() == "Text part: DiskFull is firing (severity=critical)", f"{label}: text body {body!r}")
    page = html.get_content()
    check(page.lstrip().lower().startswith("<!doctype html") or "<html" in page.lower(), f"{label}: html is a page")
    check("DiskFull" in page and "db-1" in page, f"{label}: html names the alert and instance")
    check("http://vigil.example:9093" in page, f"{label}: html links to the external URL")


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-email-")
    servers = []
    try:
        # A self-signed certificate for 127.0.0.1, trusted through ca_file.
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        pw_file = os.path.join(tmp, "password")
        with open(pw_file, "w") as f:
            f.write(PASSWORD + "\n")

        # 1. Plain SMTP, no authentication.
        ctl, rec, port = start()
        servers.append(ctl)
        path = os.path.join(tmp, "plain.yml")
        with open(path, "w") as f:
            f.write(config(port, ""))
        rc, out = run_vigil(path, "mail")
        check(rc == 0, f"plain: vigil exit {rc}: {out}")
        check(len(rec.messages) == 1, f"plain: {len(rec.messages)} messages received")
        if rec.messages:
            check_message(rec.messages[0], "plain")
            check(not rec.messages[0]["tls"], "plain: no TLS")

        # 2. AUTH (PLAIN or LOGIN) without TLS, the password read from a file.
        ctl, rec, port = start(authenticator=authenticator, auth_required=True, auth_require_tls=False)
        servers.append(ctl)
        path = os.path.join(tmp, "auth.yml")
        with open(path, "w") as f:
            f.write(config(port, f"    auth_username: {USER}\n    auth_password_file: {pw_file}\n"))
        rc, out = run_vigil(path, "mail")
        check(rc == 0, f"auth: vigil exit {rc}: {out}")
        check(len(rec.messages) == 1, f"auth: {len(rec.messages)} messages received")
        if rec.messages:
            check_message(rec.messages[0], "auth")
            check(rec.messages[0]["auth"], "auth: the session authenticated")
            check(logins and logins[-1][1:] == (USER, True) and logins[-1][0] in ("PLAIN", "LOGIN"),
                  f"auth: logged in as {USER} with PLAIN or LOGIN: {logins}")

        # 3. A wrong password fails, is retried until the timeout, and is never shown.
        wrong = "wrong-pw-1a2b3c4d"
        path = os.path.join(tmp, "wrong.yml")
        with open(path, "w") as f:
            f.write(config(port, f"    auth_username: {USER}\n    auth_password: {wrong}\n"))
        rc, out = run_vigil(path, "mail", timeout="2s")
        check(rc == 1, f"wrong password: vigil exit {rc}")
        check("mail/email[0]: FAILED" in out, f"wrong password: the failure is reported: {out}")
        check(wrong not in out and PASSWORD not in out, "wrong password: no password in the output")
        check(len(rec.messages) == 1, "wrong password: nothing more was delivered")

        # 4. STARTTLS required, with AUTH over the encrypted session.
        ctl, rec, port = start(tls_context=tls, require_starttls=True, authenticator=authenticator,
                               auth_required=True)
        servers.append(ctl)
        path = os.path.join(tmp, "starttls.yml")
        with open(path, "w") as f:
            f.write(config(port, f"    auth_username: {USER}\n    auth_password: {PASSWORD}\n"
                                 f"    tls_config:\n      ca_file: {cert}\n", require_tls=True))
        rc, out = run_vigil(path, "mail")
        check(rc == 0, f"starttls: vigil exit {rc}: {out}")
        check(len(rec.messages) == 1, f"starttls: {len(rec.messages)} messages received")
        if rec.messages:
            check_message(rec.messages[0], "starttls")
            check(rec.messages[0]["tls"], "starttls: the session was encrypted")

        # 5. require_tls against a server without STARTTLS fails clearly.
        ctl, rec, port = start()
        servers.append(ctl)
        path = os.path.join(tmp, "notls.yml")
        with open(path, "w") as f:
            f.write(config(port, "", require_tls=True))
        rc, out = run_vigil(path, "mail", timeout="1s")
        check(rc == 1, f"require_tls: vigil exit {rc}")
        check("STARTTLS" in out, f"require_tls: the error names STARTTLS: {out}")
        check(len(rec.messages) == 0, "require_tls: nothing was sent in clear")
    finally:
        for ctl in servers:
            ctl.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("email: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
