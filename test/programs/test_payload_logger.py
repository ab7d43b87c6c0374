"""The payload logger's logic (payload_logger.py), loaded with its PAYLOG_* environment: which requests are
sampled, how a body becomes a record field, the record per logging mode, the chunked request reader, and
the uploader's batching, memory bound and failure accounting. test/engine/payload-logger.test.ts runs the
proxy whole in front of a real server and a fake S3."""
import io
import json
import re
import time
import uuid

import pytest

ENV = {"PAYLOG_LISTEN_PORT": "8080", "PAYLOG_UPSTREAM_PORT": "8081", "PAYLOG_BUCKET": "mlflow", "PAYLOG_PREFIX": "payloads/vision/resnet/",
       "PAYLOG_NAMESPACE": "vision", "PAYLOG_ENDPOINT": "resnet", "PAYLOG_VERSION": "stable", "PAYLOG_POD": "resnet-7d9f-abc"}


@pytest.fixture
def logger(load_program, monkeypatch):
    for key in ("PAYLOG_MODE", "PAYLOG_SAMPLE_PERCENT", "PAYLOG_MAX_BODY_BYTES", "PAYLOG_S3_ENDPOINT", "PAYLOG_BATCH_SIZE",
                "PAYLOG_BATCH_BYTES", "PAYLOG_BUFFER_BYTES", "PAYLOG_EXCLUDE_PATHS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return lambda **env: load_program("payload_logger", **dict(ENV, **env))


def test_the_configuration_and_its_defaults(logger):
    m = logger()
    assert (m.LISTEN_PORT, m.UPSTREAM_HOST, m.UPSTREAM_PORT, m.MODE, m.SAMPLE_PERCENT, m.MAX_BODY) == (8080, "127.0.0.1", 8081, "all", 100.0, 65536)
    assert (m.BATCH_RECORDS, m.BATCH_BYTES, m.BUFFER_BYTES, m.EXCLUDE) == (1000, 8 * 2 ** 20, 32 * 2 ** 20, frozenset())
    assert m.IDENTITY == {"namespace": "vision", "endpoint": "resnet", "version": "stable", "pod": "resnet-7d9f-abc"}


def test_a_missing_required_setting_fails_at_start(load_program, monkeypatch):
    monkeypatch.delenv("PAYLOG_BUCKET", raising=False)
    with pytest.raises(KeyError, match="PAYLOG_BUCKET"):
        load_program("payload_logger", **{k: v for k, v in ENV.items() if k != "PAYLOG_BUCKET"})


# ---------------------------------------------------------------------------------------------
# Sampling

IDS = [str(uuid.UUID(int=i)) for i in range(20000)]


@pytest.mark.parametrize("percent, low, high", [("100", 1.0, 1.0), ("0", 0.0, 0.0), ("5", 0.045, 0.055), ("50", 0.48, 0.52), ("0.5", 0.003, 0.007)])
def test_the_sampled_share_of_requests_is_the_percent(logger, percent, low, high):
    m = logger(PAYLOG_SAMPLE_PERCENT=percent)
    share = sum(m.sampled(i) for i in IDS) / len(IDS)
    assert low <= share <= high


def test_the_decision_depends_on_the_request_id_only_so_a_mirrored_copy_is_decided_alike(logger):
    a, b = logger(PAYLOG_SAMPLE_PERCENT="10"), logger(PAYLOG_SAMPLE_PERCENT="10")
    assert [a.sampled(i) for i in IDS[:2000]] == [b.sampled(i) for i in IDS[:2000]]


def test_a_smaller_percent_samples_a_subset_of_a_larger_one(logger):
    small, large = logger(PAYLOG_SAMPLE_PERCENT="2"), logger(PAYLOG_SAMPLE_PERCENT="20")
    assert {i for i in IDS if small.sampled(i)} < {i for i in IDS if large.sampled(i)}


def test_percent_in_hundredths(logger):
    assert logger(PAYLOG_SAMPLE_PERCENT="0.01").THRESHOLD == 1
    assert logger(PAYLOG_SAMPLE_PERCENT="12.5").THRESHOLD == 1250


def test_any_request_id_text_is_accepted(logger):
    m = logger(PAYLOG_SAMPLE_PERCENT="50")
    for rid in ("", "\udcff", "x" * 10000, "é中"):
        assert m.sampled(rid) in (True, False)


# ---------------------------------------------------------------------------------------------
# Bodies

def test_a_utf8_body_is_kept_as_text(logger):
    m = logger()
    assert m.body_fields(bytearray("{\"x\": \"é\"}".encode()), 11, "application/json") == {
        "contentType": "application/json", "bytes": 11, "body": "{\"x\": \"é\"}", "encoding": "utf-8", "truncated": False}


def test_a_cut_inside_a_utf8_sequence_drops_its_start_instead_of_switching_to_base64(logger):
    m = logger()
    data = "aé中".encode()  # 1 + 2 + 3 bytes
    assert m.body_fields(data[:5], 6, "text/plain") == {"contentType": "text/plain", "bytes": 6, "body": "aé", "encoding": "utf-8", "truncated": True}


def test_binary_is_base64(logger):
    m = logger()
    f = m.body_fields(b"\x89PNG\x00\xff", 6, "image/png")
    assert (f["body"], f["encoding"], f["truncated"]) == ("iVBORwD/", "base64", False)


def test_invalid_utf8_in_a_complete_body_is_base64(logger):
    m = logger()
    assert m.body_fields(b"ab\xc3", 3, None)["encoding"] == "base64"


def test_without_bodies_only_the_size_is_kept(logger):
    m = logger(PAYLOG_MAX_BODY_BYTES="0")
    assert m.body_fields(b"", 10, "text/plain") == {"contentType": "text/plain", "bytes": 10, "truncated": True}
    assert m.body_fields(b"", 0, None) == {"contentType": None, "bytes": 0, "truncated": False}


# ---------------------------------------------------------------------------------------------
# Records

class Collect:
    def __init__(self):
        self.lines = []

    def add(self, line):
        self.lines.append(json.loads(line.decode("utf-8")))


def record(m, mode_body=b'{"in": 1}', response=b'{"out": 2}', **kw):
    m.UPLOADER = Collect()
    handler = type("Handler", (), {"command": "POST", "path": "/v2/models/resnet/infer?x=1", "headers": {"Content-Type": "application/json"}})()
    args = dict(timestamp="2026-01-01T00:00:00.000Z", started=m.time.monotonic() - 0.25, first_byte=None, request_id="rid-1", status=200,
                req_body=mode_body, req_total=len(mode_body), resp_captured=bytearray(response), resp_total=len(response), resp_type="application/json")
    args.update(kw)
    m.Proxy._record(handler, **args)
    return m.UPLOADER.lines


def test_a_record_holds_the_identity_the_request_and_the_response(logger):
    m = logger()
    [rec] = record(m)
    assert rec["requestId"] == "rid-1" and rec["method"] == "POST" and rec["path"] == "/v2/models/resnet/infer?x=1" and rec["status"] == 200
    assert {k: rec[k] for k in ("namespace", "endpoint", "version", "pod")} == m.IDENTITY
    assert rec["request"] == {"contentType": "application/json", "bytes": 9, "body": '{"in": 1}', "encoding": "utf-8", "truncated": False}
    assert rec["response"]["body"] == '{"out": 2}'
    assert 250 <= rec["latencyMs"] < 10000 and rec["firstByteMs"] is None and "aborted" not in rec


@pytest.mark.parametrize("mode, request_body, response_body", [("all", True, True), ("request", True, False), ("response", False, True)])
def test_the_mode_decides_which_bodies_are_kept_and_sizes_are_always_kept(logger, mode, request_body, response_body):
    [rec] = record(logger(PAYLOG_MODE=mode))
    assert ("body" in rec["request"]) is request_body and ("body" in rec["response"]) is response_body
    assert (rec["request"]["bytes"], rec["response"]["bytes"]) == (9, 10)


def test_a_long_request_body_is_cut_at_the_limit(logger):
    [rec] = record(logger(PAYLOG_MAX_BODY_BYTES="4"), mode_body=b"abcdefgh", response=b"xy")
    assert rec["request"] == {"contentType": "application/json", "bytes": 8, "body": "abcd", "encoding": "utf-8", "truncated": True}
    assert rec["response"]["truncated"] is False


def test_an_aborted_response_is_marked(logger):
    [rec] = record(logger(), aborted=True, status=502)
    assert rec["aborted"] is True and rec["status"] == 502


def test_a_record_that_cannot_be_built_is_reported_not_raised(logger, capsys):
    m = logger()
    record(m, started="not a number")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["event"] == "record-failed"
    assert m.STATS.snapshot()["logged"] == 0


# ---------------------------------------------------------------------------------------------
# Chunked request bodies

def test_read_chunked_joins_the_chunks_and_consumes_extensions_and_trailers(logger):
    m = logger()
    stream = io.BytesIO(b"4\r\nWiki\r\n5;name=v\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT")
    assert m.read_chunked(stream) == b"Wikipedia in\r\n\r\nchunks."
    assert stream.read() == b"NEXT"


def test_read_chunked_of_an_empty_body(logger):
    m = logger()
    stream = io.BytesIO(b"0\r\n\r\n")
    assert m.read_chunked(stream) == b"" and stream.read() == b""


# ---------------------------------------------------------------------------------------------
# The uploader

class S3:
    def __init__(self, fail=False):
        self.puts, self.fail = [], fail

    def put_object(self, **kw):
        if self.fail:
            raise ConnectionError("store unreachable")
        self.puts.append(kw)


def uploader(m, s3=None):
    u = m.Uploader()
    u.s3 = s3 or S3()
    return u


def test_a_batch_is_one_json_lines_object_under_the_prefix_by_day_time_pod_and_sequence(logger, capsys):
    m = logger()
    u = uploader(m)
    u.upload([b'{"a":1}\n', b'{"b":2}\n'])
    u.upload([b'{"c":3}\n'])
    first, second = u.s3.puts
    assert re.fullmatch(r"payloads/vision/resnet/\d{4}-\d\d-\d\d/\d{6}-resnet-7d9f-abc-000001\.jsonl", first["Key"])
    assert second["Key"].endswith("-resnet-7d9f-abc-000002.jsonl")
    assert (first["Bucket"], first["Body"], first["ContentType"]) == ("mlflow", b'{"a":1}\n{"b":2}\n', "application/x-ndjson")
    assert m.STATS.snapshot()["uploadedBatches"] == 2 and m.STATS.snapshot()["uploadedRecords"] == 3
    assert [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines()] == ["uploaded", "uploaded"]


def test_a_failed_upload_drops_the_batch_and_counts_it(logger, capsys):
    m = logger()
    uploader(m, S3(fail=True)).upload([b"x\n"] * 3)
    stats = m.STATS.snapshot()
    assert (stats["droppedBatches"], stats["droppedRecords"], stats["uploadedBatches"]) == (1, 3, 0)
    event = json.loads(capsys.readouterr().out)
    assert event["event"] == "upload-failed" and event["records"] == 3 and "store unreachable" in event["error"]


def test_the_buffer_is_bounded_records_beyond_it_are_dropped(logger):
    m = logger(PAYLOG_BUFFER_BYTES="10")
    u = uploader(m)
    for _ in range(4):
        u.add(b"abcd\n")
    assert u.records == [b"abcd\n", b"abcd\n"] and u.size == 10
    assert m.STATS.snapshot()["droppedRecords"] == 2


def test_a_full_batch_is_uploaded_without_waiting_for_the_flush_interval(logger):
    m = logger(PAYLOG_BATCH_SIZE="3", PAYLOG_FLUSH_SECONDS="3600")
    u = uploader(m)
    u.start()
    for i in range(3):
        u.add(b"%d\n" % i)
    for _ in range(500):
        if u.s3.puts:
            break
        time.sleep(0.01)
    assert [p["Body"] for p in u.s3.puts] == [b"0\n1\n2\n"]
    u.stop(timeout=5)
    assert not u.is_alive()


def test_stopping_uploads_what_is_left(logger):
    m = logger(PAYLOG_FLUSH_SECONDS="3600")
    u = uploader(m)
    u.start()
    u.add(b"last\n")
    u.stop(timeout=5)
    assert not u.is_alive()
    assert [p["Body"] for p in u.s3.puts] == [b"last\n"]


def test_stats_count_per_name(logger):
    m = logger()
    m.STATS.add("requests")
    m.STATS.add("requests", 2)
    assert m.STATS.snapshot()["requests"] == 3


def test_store_keys_come_from_the_mounted_files_and_reach_the_uploaders_client(logger, tmp_path, monkeypatch):
    # endpoint-logging.ts mounts the keys and passes AWS_*_FILE (pod.ts credentialFiles), never the keys.
    (tmp_path / "id").write_text("AKIDLOGGER")
    (tmp_path / "secret").write_text("s3cr/t+")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(k, raising=False)
    m = logger(AWS_ACCESS_KEY_ID_FILE=str(tmp_path / "id"), AWS_SECRET_ACCESS_KEY_FILE=str(tmp_path / "secret"))
    assert m.store_keys() == {"aws_access_key_id": "AKIDLOGGER", "aws_secret_access_key": "s3cr/t+"}
    creds = m.Uploader().s3._request_signer._credentials
    assert (creds.access_key, creds.secret_key) == ("AKIDLOGGER", "s3cr/t+")
