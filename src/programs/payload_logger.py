#!/usr/bin/env python3
"""mlplatform payload logger: a reverse proxy in front of a model server that logs sampled
requests and responses to an S3-compatible store as JSON-lines batches. Configuration comes from
the environment (PAYLOG_*); credentials are the store keys from the files AWS_*_FILE name, or else boto3's chain (the pod's workload identity)."""
import base64
import datetime
import hashlib
import http.client
import http.server
import json
import os
import signal
import sys
import threading
import time
import uuid

import boto3
import botocore.config

ENV = os.environ
LISTEN_PORT = int(ENV["PAYLOG_LISTEN_PORT"])
UPSTREAM_HOST = ENV.get("PAYLOG_UPSTREAM_HOST", "127.0.0.1")
UPSTREAM_PORT = int(ENV["PAYLOG_UPSTREAM_PORT"])
UPSTREAM_TIMEOUT = float(ENV.get("PAYLOG_UPSTREAM_TIMEOUT_SECONDS", "600"))
MODE = ENV.get("PAYLOG_MODE", "all")
SAMPLE_PERCENT = float(ENV.get("PAYLOG_SAMPLE_PERCENT", "100"))
MAX_BODY = int(ENV.get("PAYLOG_MAX_BODY_BYTES", "65536"))
FLUSH_SECONDS = float(ENV.get("PAYLOG_FLUSH_SECONDS", "60"))
BATCH_RECORDS = int(ENV.get("PAYLOG_BATCH_SIZE", "1000"))
BATCH_BYTES = int(ENV.get("PAYLOG_BATCH_BYTES", str(8 * 1024 * 1024)))
BUFFER_BYTES = int(ENV.get("PAYLOG_BUFFER_BYTES", str(32 * 1024 * 1024)))
DRAIN_SECONDS = float(ENV.get("PAYLOG_DRAIN_SECONDS", "10"))
UPLOAD_GRACE_SECONDS = float(ENV.get("PAYLOG_UPLOAD_GRACE_SECONDS", "15"))
EXCLUDE = frozenset(json.loads(ENV.get("PAYLOG_EXCLUDE_PATHS", "[]")))
BUCKET = ENV["PAYLOG_BUCKET"]
PREFIX = ENV["PAYLOG_PREFIX"]
S3_ENDPOINT = ENV.get("PAYLOG_S3_ENDPOINT") or None
IDENTITY = {
    "namespace": ENV.get("PAYLOG_NAMESPACE", ""),
    "endpoint": ENV.get("PAYLOG_ENDPOINT", ""),
    "version": ENV.get("PAYLOG_VERSION", ""),
    "pod": ENV.get("PAYLOG_POD") or ENV.get("HOSTNAME", "local"),
}
# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business on each side; Expect is answered here.
HOP = frozenset(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                 "te", "trailer", "transfer-encoding", "upgrade", "expect"])
THRESHOLD = round(SAMPLE_PERCENT * 100)


def say(event, **fields):
    fields.update(event=event, time=utcnow())
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sampled(request_id):
    """Hash-based, so the same request id (an original and its mirrored copy) is always decided alike."""
    if THRESHOLD >= 10000:
        return True
    h = int.from_bytes(hashlib.sha256(request_id.encode("utf-8", "replace")).digest()[:8], "big")
    return h % 10000 < THRESHOLD


def body_fields(captured, total, content_type):
    out = {"contentType": content_type, "bytes": total}
    if MAX_BODY <= 0:
        out["truncated"] = total > 0
        return out
    data = bytes(captured)
    truncated = total > len(data)
    text = None
    # A cut can split a UTF-8 sequence: try without its last 1-3 bytes before falling back to base64.
    for cut in range(0, 4 if truncated else 1):
        try:
            text = data[: len(data) - cut].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    if text is not None:
        out.update(body=text, encoding="utf-8")
    else:
        out.update(body=base64.b64encode(data).decode("ascii"), encoding="base64")
    out["truncated"] = truncated
    return out


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = dict.fromkeys(["requests", "logged", "uploadedBatches", "uploadedRecords",
                                     "droppedBatches", "droppedRecords", "upstreamErrors"], 0)

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def snapshot(self):
        with self.lock:
            return dict(self.counts)


STATS = Stats()


def store_keys():
    """The store keys from the files AWS_ACCESS_KEY_ID_FILE/AWS_SECRET_ACCESS_KEY_FILE name (mounted
    Secret keys: src/cdk8s/private/endpoint-logging.ts), passed to boto3 explicitly; none: boto3's
    own chain (the pod's workload identity)."""
    keys = {}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        path = ENV.get(name + "_FILE")
        if path:
            with open(path, encoding="utf-8") as f:
                keys[name.lower()] = f.read()
    return keys


class Uploader(threading.Thread):
    """Buffers records and uploads them as one object per batch: when a batch is full, every
    FLUSH_SECONDS, and once more when stopped. Never raises into the request path."""

    def __init__(self):
        super().__init__(name="uploader", daemon=True)
        self.cv = threading.Condition()
        self.records = []
        self.size = 0
        self.seq = 0
        self.stopping = False
        cfg = botocore.config.Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2},
                                     s3={"addressing_style": "path"} if S3_ENDPOINT else {})
        self.s3 = boto3.session.Session().client("s3", endpoint_url=S3_ENDPOINT, config=cfg, **store_keys())

    def add(self, line):
        with self.cv:
            if self.size + len(line) > BUFFER_BYTES:
                STATS.add("droppedRecords")
                return
            self.records.append(line)
            self.size += len(line)
            if len(self.records) >= BATCH_RECORDS or self.size >= BATCH_BYTES:
                self.cv.notify()

    def _take(self):
        batch, self.records, self.size = self.records, [], 0
        return batch

    def run(self):
        while True:
            deadline = time.monotonic() + FLUSH_SECONDS
            with self.cv:
                while not self.stopping and len(self.records) < BATCH_RECORDS and self.size < BATCH_BYTES:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.cv.wait(left)
                stopping = self.stopping
                batch = self._take()
            if batch:
                self.upload(batch)
            if stopping:
                with self.cv:
                    rest = self._take()
                if rest:
                    self.upload(rest)
                return

    def upload(self, batch):
        self.seq += 1
        now = datetime.datetime.now(datetime.timezone.utc)
        key = "%s%s/%s-%s-%06d.jsonl" % (PREFIX, now.strftime("%Y-%m-%d"), now.strftime("%H%M%S"), IDENTITY["pod"], self.seq)
        try:
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=b"".join(batch), ContentType="application/x-ndjson")
        except Exception as exc:  # noqa: BLE001 - any failure drops the batch, never the service
            STATS.add("droppedBatches")
            STATS.add("droppedRecords", len(batch))
            say("upload-failed", key=key, records=len(batch), error=str(exc)[:300], **STATS.snapshot())
            return
        STATS.add("uploadedBatches")
        STATS.add("uploadedRecords", len(batch))
        say("uploaded", key=key, records=len(batch))

    def stop(self, timeout):
        with self.cv:
            self.stopping = True
            self.cv.notify()
        self.join(timeout)


UPLOADER = None
STOP = threading.Event()
INFLIGHT = [0]
INFLIGHT_LOCK = threading.Lock()


def read_chunked(rfile):
    out = bytearray()
    while True:
        line = rfile.readline(65537)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out)
        out += rfile.read(size)
        rfile.readline(65537)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mlplatform-payload-logger"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle and the client's delayed ACK add ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def _any(self):
        with INFLIGHT_LOCK:
            INFLIGHT[0] += 1
        try:
            self._proxy()
        finally:
            with INFLIGHT_LOCK:
                INFLIGHT[0] -= 1

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

    def _proxy(self):
        started = time.monotonic()
        timestamp = utcnow()
        STATS.add("requests")
        chunked_in = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked_in:
            body = read_chunked(self.rfile)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        request_id = self.headers.get("X-Request-Id") or str(uuid.uuid4())
        log = self.path.split("?", 1)[0] not in EXCLUDE and sampled(request_id)
        if STOP.is_set():
            self.close_connection = True
        upstream = http.client.HTTPConnection(UPSTREAM_HOST, UPSTREAM_PORT, timeout=UPSTREAM_TIMEOUT)
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP and not (chunked_in and k.lower() == "content-length"):
                    upstream.putheader(k, v)
            if chunked_in:
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body or None)
            resp = upstream.getresponse()
        except Exception as exc:  # noqa: BLE001 - the server is down or restarting
            upstream.close()
            STATS.add("upstreamErrors")
            message = ("model server unavailable: %s\n" % exc.__class__.__name__).encode()
            self.send_response_only(502)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            if log:
                self._record(timestamp, started, None, request_id, 502, body, len(body), bytearray(), 0, "text/plain")
            return
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        chunked_out = False
        if not no_body and resp.getheader("Content-Length") is None:
            if resp.chunked and self.request_version != "HTTP/1.0":
                chunked_out = True
                self.send_header("Transfer-Encoding", "chunked")
            else:
                # Delimited by the end of the connection (or an HTTP/1.0 client): so is ours.
                self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        captured = bytearray()
        total = 0
        first_byte = None
        aborted = False
        try:
            while not no_body:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                if first_byte is None:
                    first_byte = time.monotonic()
                total += len(chunk)
                if log and len(captured) < MAX_BODY:
                    captured += chunk[: MAX_BODY - len(captured)]
                if chunked_out:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    self.wfile.write(chunk)
            if chunked_out:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            aborted = True
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - the server broke off mid-response
            STATS.add("upstreamErrors")
            say("upstream-broke-off", error=str(exc)[:300])
            aborted = True
            self.close_connection = True
        finally:
            upstream.close()
        if log:
            self._record(timestamp, started, first_byte, request_id, resp.status, body, len(body), captured, total,
                         resp.getheader("Content-Type"), aborted)

    def _record(self, timestamp, started, first_byte, request_id, status, req_body, req_total, resp_captured, resp_total,
                resp_type, aborted=False):
        try:
            rec = {
                "timestamp": timestamp,
                "requestId": request_id,
                **IDENTITY,
                "method": self.command,
                "path": self.path,
                "status": status,
                "latencyMs": round((time.monotonic() - started) * 1000, 3),
                "firstByteMs": round((first_byte - started) * 1000, 3) if first_byte else None,
            }
            if aborted:
                rec["aborted"] = True
            req = body_fields(req_body[:MAX_BODY] if MODE in ("all", "request") else b"", req_total,
                              self.headers.get("Content-Type"))
            res = body_fields(resp_captured if MODE in ("all", "response") else b"", resp_total, resp_type)
            if MODE == "response":
                req = {"contentType": req["contentType"], "bytes": req_total}
            if MODE == "request":
                res = {"contentType": res["contentType"], "bytes": resp_total}
            rec["request"], rec["response"] = req, res
            UPLOADER.add((json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
            STATS.add("logged")
        except Exception as exc:  # noqa: BLE001 - logging never fails a request
            say("record-failed", error=str(exc)[:300])


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    global UPLOADER
    UPLOADER = Uploader()
    UPLOADER.start()
    server = Server(("0.0.0.0", LISTEN_PORT), Proxy)

    def on_term(signum, frame):
        if not STOP.is_set():
            STOP.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    say("listening", port=LISTEN_PORT, upstream=UPSTREAM_PORT, bucket=BUCKET, prefix=PREFIX,
        mode=MODE, samplePercent=SAMPLE_PERCENT, maxBodyBytes=MAX_BODY, flushSeconds=FLUSH_SECONDS)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        with INFLIGHT_LOCK:
            if INFLIGHT[0] == 0:
                break
        time.sleep(0.05)
    UPLOADER.stop(timeout=UPLOAD_GRACE_SECONDS)
    say("stopped", **STATS.snapshot())


if __name__ == "__main__":
    main()
