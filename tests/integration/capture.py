"""A capture server for integration tests: an HTTP server on 127.0.0.1 that
records every request and answers as each receiver's API does, by path prefix
(/telegram/, /rocketchat/, /wechat/, /pagerduty/, /opsgenie/, /jira/, /sns/;
anything else gets 200 "ok")."""
import http.server
import json
import threading
import urllib.parse


class Capture:
    """An HTTP server recording every request, answering as each API does."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        cap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(n) if n else b""
                url = urllib.parse.urlsplit(self.path)
                with cap.lock:
                    cap.requests.append({"method": self.command, "path": url.path, "query": url.query,
                                         "headers": {k.lower(): v for k, v in self.headers.items()},
                                         "body": body})
                status, ctype, answer = respond(self.command, url.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def of(self, integration):
        with self.lock:
            return [r for r in self.requests if r["path"].startswith(f"/{integration}/")]


def respond(method, path):
    """What each API answers, enough for the sender to count it delivered."""
    j = lambda o, status=200: (status, "application/json", json.dumps(o).encode())
    if path.startswith("/telegram/"):
        return j({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": -1001234}}})
    if path.startswith("/rocketchat/"):
        return j({"success": True})
    if path.endswith("/gettoken"):
        return j({"errcode": 0, "errmsg": "ok", "access_token": "wx-access-token"})
    if path.startswith("/wechat/"):
        return j({"errcode": 0, "errmsg": "ok"})
    if path.startswith("/pagerduty/"):
        return j({"status": "success", "message": "Event processed", "dedup_key": "k"}, 202)
    if path.startswith("/opsgenie/"):
        return j({"result": "Request will be processed", "took": 0.1, "requestId": "r"}, 202)
    if path.startswith("/jira/") and path.endswith("/search"):
        return j({"total": 0, "issues": []})
    if path.startswith("/jira/") and path.endswith("/issue"):
        return j({"id": "10000", "key": "OPS-1", "self": "http://jira/rest/api/2/issue/10000"}, 201)
    if path.startswith("/sns/"):
        xml = ('<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
               '<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>'
               '<ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId>'
               '</ResponseMetadata></PublishResponse>')
        return 200, "text/xml", xml.encode()
    return 200, "text/plain", b"ok"
