#!/usr/bin/env python3
"""openai_stub.py - a local server that speaks the OpenAI embeddings API, for tests.

    openai_stub.py --port-file FILE [--stats-file FILE] [options]

Listens on 127.0.0.1 on a port the kernel chooses and writes that port to
--port-file (atomically, once it is listening). POST /v1/embeddings answers
with deterministic vectors: component j of the vector of text t is derived
from sha256(model, dimension, t), then L2-normalised, so equal requests give
equal vectors. GET /stats returns the counters as JSON; --stats-file gets
the same JSON rewritten after every request:

    requests       POSTs received (every attempt, failed ones too)
    inputs         texts received in all POSTs
    ok_requests    POSTs answered 200 with vectors
    ok_inputs      texts in those
    auth_ok        POSTs whose Authorization was "Bearer <--expect-key>"
    auth_bad       POSTs whose Authorization was missing or different
    last_body_has_key  whether any request body contained the expected key
    inflight, max_inflight   POSTs open at once (now, at most): how
                   concurrent the client is
    serving, max_serving     POSTs being served at once (at most --slots)
    first_post, last_reply   wall-clock times (time.time()) of the first
                   POST's arrival and of the end of the last reply
    busy_seconds   time spent serving POSTs, summed over POSTs, without
                   the --delay-ms sleeps: the stub's own cost

Failure modes (counted over POSTs, first ones first):
    --delay-ms N          sleep N ms before answering
    --fail-429 N          answer the first N POSTs 429 with Retry-After
    --retry-after VALUE   the Retry-After header value for 429 (default 0)
    --retry-after-ms N    also send retry-after-ms: N with 429
    --fail-500 N          answer the first N POSTs (after the 429s) 500
    --ok-then-400 N       answer the first N POSTs normally, the rest 400
    --error-400 MSG       answer 400 with {"error": {"message": MSG}}; the
                          text "{key}" in MSG is replaced by the Authorization
                          key received (a server that echoes the key),
                          "{keymask}" by its first 7 and last 4 characters
                          around "****", "{keyhalf}" by its first half
    --stall               never answer a POST (hold it open up to 120 s)
    --force-dims N        vectors of N dimensions, whatever was asked
    --force-dims-after K  ... only after the first K POSTs (which answer
                          the asked or --dims dimension)
    --gzip-bomb MIB       answer 200 with a gzip body (Content-Encoding:
                          gzip) that expands to MIB MiB of blanks
    --wrong-dims          vectors one component short
    --too-few             one vector fewer than inputs
    --bad-json            a body that is not JSON
    --nan                 a vector with a number too large for float32
    --shuffle             data[] in reverse order (clients must use "index")
    --dims N              the model's own dimension (default 16)
    --expect-key KEY      the API key that counts as auth_ok
    --slots N             serve at most N POSTs at once (the others wait for
                          a slot, as behind a server with N workers);
                          default: no bound
    --log-headers FILE    append every request's line, headers and body to
                          FILE (to show what a client sent, e.g. no key)

Python 3 standard library only. Stop it with SIGTERM.
"""

import argparse
import hashlib
import json
import os
import signal
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"requests": 0, "inputs": 0, "ok_requests": 0, "ok_inputs": 0,
         "auth_ok": 0, "auth_bad": 0, "last_body_has_key": False}
ARGS = None
SLOTS = None  # a semaphore of --slots, or None


def write_atomic(path, text):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def gzip_bomb(mib):
    import gzip
    return gzip.compress(b" " * (mib << 20), 9)


def vector(model, dim, text):
    out = []
    seed = hashlib.sha256(("%s\0%d\0%s" % (model, dim, text)).encode()).digest()
    block = b""
    i = 0
    while len(out) < dim:
        if len(block) < 4:
            block = hashlib.sha256(seed + struct.pack("<I", i)).digest()
            i += 1
        (u,) = struct.unpack("<I", block[:4])
        block = block[4:]
        out.append(u / 2147483648.0 - 1.0)
    norm = sum(x * x for x in out) ** 0.5 or 1.0
    # round-trippable through float32 exactly
    return [struct.unpack("<f", struct.pack("<f", x / norm))[0] for x in out]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as real servers set it: the headers and the body of a
    # reply go out in two writes, and with Nagle's algorithm the second waits
    # for the client's delayed ACK of the first (about 40 ms on Linux)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_request_to_file(self, body=b""):
        if not ARGS.log_headers:
            return
        with LOCK:
            with open(ARGS.log_headers, "ab") as f:
                f.write(("%s %s\n%s" % (self.command, self.path, self.headers)).encode())
                f.write(body + b"\n\n")

    def do_GET(self):
        self.log_request_to_file()
        if self.path == "/stats":
            with LOCK:
                self.reply(200, dict(STATS))
        else:
            self.reply(404, {"error": {"message": "not found"}})

    def do_POST(self):
        # requests being answered at once: how concurrent the client really is
        with LOCK:
            STATS["inflight"] = STATS.get("inflight", 0) + 1
            STATS["max_inflight"] = max(STATS.get("max_inflight", 0), STATS["inflight"])
            if "first_post" not in STATS:
                STATS["first_post"] = time.time()
        if SLOTS:
            SLOTS.acquire()
        t0 = time.perf_counter()
        self.slept = 0.0  # one handler serves every request of a connection
        with LOCK:
            STATS["serving"] = STATS.get("serving", 0) + 1
            STATS["max_serving"] = max(STATS.get("max_serving", 0), STATS["serving"])
        try:
            self.post()
        finally:
            busy = time.perf_counter() - t0 - getattr(self, "slept", 0.0)
            with LOCK:
                STATS["serving"] -= 1
                STATS["busy_seconds"] = STATS.get("busy_seconds", 0.0) + max(busy, 0.0)
                STATS["last_reply"] = time.time()
            if SLOTS:
                SLOTS.release()
            with LOCK:
                STATS["inflight"] -= 1
                self.save()

    def post(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.log_request_to_file(raw)
        if not self.path.rstrip("/").endswith("/embeddings"):
            self.reply(404, {"error": {"message": "no such endpoint: %s" % self.path}})
            return
        try:
            req = json.loads(raw)
            inputs = req["input"]
            if isinstance(inputs, str):
                inputs = [inputs]
            model = req["model"]
        except Exception as e:  # noqa: BLE001
            self.reply(400, {"error": {"message": "bad request: %s" % e}})
            return
        auth = self.headers.get("Authorization") or ""
        key = auth[7:] if auth.startswith("Bearer ") else ""
        with LOCK:
            STATS["requests"] += 1
            STATS["inputs"] += len(inputs)
            n = STATS["requests"]
            if ARGS.expect_key is not None and auth == "Bearer " + ARGS.expect_key:
                STATS["auth_ok"] += 1
            else:
                STATS["auth_bad"] += 1
            if ARGS.expect_key and ARGS.expect_key.encode() in raw:
                STATS["last_body_has_key"] = True
            self.save()
        if ARGS.stall:
            time.sleep(120)
            return
        if ARGS.gzip_bomb:
            self.reply(200, gzip_bomb(ARGS.gzip_bomb), {"Content-Encoding": "gzip"})
            return
        if ARGS.delay_ms:
            time.sleep(ARGS.delay_ms / 1000.0)
            self.slept = ARGS.delay_ms / 1000.0
        if n <= ARGS.fail_429:
            headers = {"Retry-After": ARGS.retry_after}
            if ARGS.retry_after_ms is not None:
                headers["retry-after-ms"] = str(ARGS.retry_after_ms)
            self.reply(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, headers)
            return
        if n <= ARGS.fail_429 + ARGS.fail_500:
            self.reply(500, {"error": {"message": "internal error"}})
            return
        if ARGS.error_400 is not None:
            msg = (ARGS.error_400.replace("{keymask}", key[:7] + "****" + key[-4:])
                   .replace("{keyhalf}", key[:len(key) // 2]).replace("{key}", key))
            self.reply(400, {"error": {"message": msg,
                                       "type": "invalid_request_error"}})
            return
        if ARGS.ok_then_400 is not None and n > ARGS.ok_then_400:
            self.reply(400, {"error": {"message": "quota exceeded for this key",
                                       "type": "invalid_request_error"}})
            return
        if ARGS.bad_json:
            self.reply(200, b'{"data": [{"index": 0, "embedding": [0.1, ')
            return
        dim = int(req.get("dimensions") or ARGS.dims)
        if ARGS.force_dims and n > ARGS.force_dims_after:
            dim = ARGS.force_dims
        data = []
        for i, t in enumerate(inputs):
            v = vector(model, dim, t)
            if ARGS.wrong_dims and i == len(inputs) - 1:
                v = v[:-1]
            if ARGS.nan and i == 0:
                v[0] = 1e300
            data.append({"object": "embedding", "index": i, "embedding": v})
        if ARGS.too_few:
            data = data[:-1]
        if ARGS.shuffle:
            data.reverse()
        tokens = sum((len(t.encode()) + 3) // 4 for t in inputs)
        with LOCK:
            STATS["ok_requests"] += 1
            STATS["ok_inputs"] += len(inputs)
            self.save()
        self.reply(200, {"object": "list", "data": data, "model": model,
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def save(self):
        if ARGS.stats_file:
            write_atomic(ARGS.stats_file, json.dumps(STATS, sort_keys=True) + "\n")


def main():
    global ARGS, SLOTS
    p = argparse.ArgumentParser(description="OpenAI embeddings API stub for tests")
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)  # 0: any free port
    p.add_argument("--stats-file")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--fail-429", type=int, default=0)
    p.add_argument("--retry-after", default="0")
    p.add_argument("--retry-after-ms", type=int)
    p.add_argument("--fail-500", type=int, default=0)
    p.add_argument("--ok-then-400", type=int)
    p.add_argument("--error-400")
    p.add_argument("--wrong-dims", action="store_true")
    p.add_argument("--too-few", action="store_true")
    p.add_argument("--bad-json", action="store_true")
    p.add_argument("--nan", action="store_true")
    p.add_argument("--shuffle", action="store_true")
    p.add_argument("--dims", type=int, default=16)
    p.add_argument("--stall", action="store_true")
    p.add_argument("--force-dims", type=int, default=0)
    p.add_argument("--force-dims-after", type=int, default=0)
    p.add_argument("--gzip-bomb", type=int, default=0)
    p.add_argument("--expect-key")
    p.add_argument("--slots", type=int, default=0)
    p.add_argument("--log-headers")
    ARGS = p.parse_args()
    if ARGS.slots > 0:
        SLOTS = threading.BoundedSemaphore(ARGS.slots)

    # a listen backlog of 5 (the default) drops the SYNs of a client that opens
    # more connections at once, which then wait 1 s to retry
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    if ARGS.stats_file:
        write_atomic(ARGS.stats_file, json.dumps(STATS, sort_keys=True) + "\n")
    write_atomic(ARGS.port_file, "%d\n" % server.server_address[1])
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
