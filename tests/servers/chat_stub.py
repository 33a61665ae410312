#!/usr/bin/env python3
"""chat_stub.py - a tiny OpenAI-compatible chat-completions server for tests.

Listens on 127.0.0.1 on a free port, which it writes to --port-file (atomically,
so a test can wait for the file). POST .../chat/completions answers with a
deterministic context derived from the request: "Stub context <16 hex>", the
hex being SHA-256 over the model and the user message. Every request appends a
line to --count-file (the status it answered), so tests count requests with
`wc -l`. Standard library only.

--mode (or CHAT_STUB_MODE):
  ok            always answer 200
  429-once      the first request gets 429 with Retry-After: 1
  500-once      the first request gets 500
  400           every request gets 400 with an OpenAI-style error whose
                message echoes the bearer token (a provider that leaks it)
  400-after:N   N requests succeed, then every request gets 400
  stall         never answer (hold the request open up to 120 s)
  429-huge      every request gets 429 with Retry-After: 100000
--expect-key-env NAME: answer 401 unless "Authorization: Bearer $NAME".
The server exits by itself after --max-seconds (default 300).
"""
import argparse
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--count-file", required=True)
    ap.add_argument("--mode", default=os.environ.get("CHAT_STUB_MODE", "ok"))
    ap.add_argument("--expect-key-env")
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()
    expect_key = os.environ.get(args.expect_key_env) if args.expect_key_env else None
    lock = threading.Lock()
    state = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, obj, headers=()):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            with open(args.count_file, "a") as f:
                f.write("%d %s\n" % (status, self.path))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with lock:
                state["n"] += 1
                n = state["n"]
            auth = self.headers.get("Authorization") or ""
            if not self.path.endswith("/chat/completions"):
                return self.answer(404, {"error": {"message": "no route " + self.path}})
            if expect_key is not None and auth != "Bearer " + expect_key:
                return self.answer(401, {"error": {"message": "missing or wrong API key"}})
            mode = args.mode
            if mode == "429-once" and n == 1:
                return self.answer(429, {"error": {"message": "rate limited"}},
                                   [("Retry-After", "1")])
            if mode == "stall":
                import time
                time.sleep(120)
                return
            if mode == "429-huge":
                return self.answer(429, {"error": {"message": "rate limited"}},
                                   [("Retry-After", "100000")])
            if mode == "500-once" and n == 1:
                return self.answer(500, {"error": {"message": "internal error"}})
            if mode == "400" or (mode.startswith("400-after:") and n > int(mode.split(":")[1])):
                token = auth[7:] if auth.startswith("Bearer ") else ""
                return self.answer(400, {"error": {
                    "message": "The model does not exist. Incorrect API key provided: " + token,
                    "type": "invalid_request_error"}})
            try:
                req = json.loads(raw)
                model = req["model"]
                user = [m for m in req["messages"] if m["role"] == "user"][0]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                return self.answer(400, {"error": {"message": "bad request body"}})
            h = hashlib.sha256((model + "\0" + user).encode()).hexdigest()[:16]
            self.answer(200, {
                "id": "stub-%d" % n, "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": " Stub context %s\n" % h}}],
                "usage": {"prompt_tokens": len(user.split()), "completion_tokens": 3,
                          "total_tokens": len(user.split()) + 3}})

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    timer = threading.Timer(args.max_seconds, srv.shutdown)
    timer.daemon = True
    timer.start()
    try:
        srv.serve_forever()
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
