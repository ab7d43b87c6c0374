"""step_io.py: what it asks the store for (pull, push) and how it waits for the node (FIFO), with a
recording client instead of boto3. The cluster tier runs it whole against SeaweedFS
(test/cluster/services/multinode-io.test.ts)."""
import io
import os
import threading

import pytest


class FakeS3:
    """The calls step_io.py makes, answered from a dict of objects; ListObjectsV2 pages of `page` keys."""

    def __init__(self, objects=None, page=1000):
        self.objects, self.page, self.calls = dict(objects or {}), page, []

    def list_objects_v2(self, Bucket, Prefix, ContinuationToken=None):
        self.calls.append(("ListObjectsV2", Bucket, Prefix, ContinuationToken))
        keys = sorted(k for (b, k) in self.objects if b == Bucket and k.startswith(Prefix))
        start = int(ContinuationToken or 0)
        chunk = keys[start:start + self.page]
        more = start + self.page < len(keys)
        out = {"Contents": [{"Key": k} for k in chunk], "IsTruncated": more}
        if more:
            out["NextContinuationToken"] = str(start + self.page)
        return out

    def get_object(self, Bucket, Key):
        self.calls.append(("GetObject", Bucket, Key))
        if (Bucket, Key) not in self.objects:
            raise KeyError(Key)
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def upload_file(self, path, Bucket, Key):
        self.calls.append(("upload_file", Bucket, Key))
        with open(path, "rb") as f:
            self.objects[(Bucket, Key)] = f.read()


@pytest.fixture
def step_io(load_program):
    return load_program("step_io")


def test_pull_a_dataset_prefix_lists_every_page_and_gets_what_it_listed(step_io, tmp_path):
    s3 = FakeS3({("b", "ds/v3/a.csv"): b"a", ("b", "ds/v3/sub/b.csv"): b"b", ("b", "ds/v3/sub/"): b"", ("b", "ds/v30/x"): b"x"}, page=1)
    step_io.pull(s3, str(tmp_path / "raw"), "s3://b/ds/v3/")
    assert (tmp_path / "raw" / "a.csv").read_bytes() == b"a"
    assert (tmp_path / "raw" / "sub" / "b.csv").read_bytes() == b"b"
    assert [c[0] for c in s3.calls] == ["ListObjectsV2"] * 3 + ["GetObject"] * 2
    assert {c[2] for c in s3.calls if c[0] == "ListObjectsV2"} == {"ds/v3/"}  # never the neighbour v30/


def test_pull_an_output_reads_a_directory_or_else_the_file_itself(step_io, tmp_path):
    s3 = FakeS3({("b", "p/run/train/model/MLmodel"): b"m", ("b", "p/run/train/score"): b"0.9"})
    step_io.pull(s3, str(tmp_path / "model"), "s3://b/p/run/train/model")
    assert (tmp_path / "model" / "MLmodel").read_bytes() == b"m"
    step_io.pull(s3, str(tmp_path / "score"), "s3://b/p/run/train/score")
    assert (tmp_path / "score").read_bytes() == b"0.9"
    assert s3.calls[-2:] == [("ListObjectsV2", "b", "p/run/train/score/", None), ("GetObject", "b", "p/run/train/score")]


def test_an_empty_dataset_prefix_fails_without_asking_for_any_object(step_io, tmp_path):
    s3 = FakeS3({})
    with pytest.raises(SystemExit, match="no object under this prefix"):
        step_io.pull(s3, str(tmp_path / "raw"), "s3://b/ds/v3/")
    assert [c[0] for c in s3.calls] == ["ListObjectsV2"]


def test_a_missing_output_fails_naming_the_uri_and_the_store_answer(step_io, tmp_path):
    class Refusing(FakeS3):
        def get_object(self, Bucket, Key):
            self.calls.append(("GetObject", Bucket, Key))
            error = Exception("An error occurred (AccessDenied) when calling the GetObject operation")
            error.response = {"Error": {"Code": "AccessDenied"}}  # botocore ClientError's shape
            raise error

    s3 = Refusing({})
    with pytest.raises(SystemExit, match=r"s3://b/p/run/prep/table: no object under p/run/prep/table/ .*\(AccessDenied\)"):
        step_io.pull(s3, str(tmp_path / "table"), "s3://b/p/run/prep/table")
    assert s3.calls == [("ListObjectsV2", "b", "p/run/prep/table/", None), ("GetObject", "b", "p/run/prep/table")]
    assert not (tmp_path / "table").exists()


def test_object_names_cannot_escape_the_destination(step_io, tmp_path):
    s3 = FakeS3({("b", "ds/v3/../../etc/x"): b"x"})
    with pytest.raises(ValueError, match="refusing object name"):
        step_io.pull(s3, str(tmp_path / "raw"), "s3://b/ds/v3/")


def test_push_uploads_a_directory_file_by_file_and_a_file_to_its_key(step_io, tmp_path):
    out = tmp_path / "model"
    (out / "sub").mkdir(parents=True)
    (out / "MLmodel").write_bytes(b"m")
    (out / "sub" / "w.bin").write_bytes(b"w")
    os.symlink(out / "MLmodel", out / "link")
    s3 = FakeS3()
    step_io.put(s3, str(out), "s3://b/p/run/ft/model")
    (tmp_path / "loss").write_text("0.1")
    step_io.put(s3, str(tmp_path / "loss"), "s3://b/p/run/ft/loss")
    assert sorted(k for (_, k) in s3.objects) == ["p/run/ft/loss", "p/run/ft/model/MLmodel", "p/run/ft/model/sub/w.bin"]
    with pytest.raises(SystemExit, match="was not written"):
        step_io.put(s3, str(tmp_path / "missing"), "s3://b/p/run/ft/missing")


def test_push_waits_for_the_node_and_uploads_only_from_node_0_after_success(step_io, tmp_path, monkeypatch):
    (tmp_path / "out").write_text("model")
    fifo = str(tmp_path / "node-exit")
    step_io.make_fifo(fifo)
    step_io.make_fifo(fifo)  # idempotent
    uploads = []
    monkeypatch.setattr(step_io, "client", lambda: "client")
    monkeypatch.setattr(step_io, "put", lambda s3, src, uri: uploads.append((src, uri)))

    def run(index, status):
        def writer():
            with open(fifo, "w") as f:
                if status is not None:
                    f.write(f"{status}\n")
        t = threading.Thread(target=writer)
        t.start()
        rc = step_io.main(["push", "--wait", fifo, "--index", index, f"{tmp_path}/out=s3://b/k"])
        t.join()
        return rc

    assert run("1", 0) == 0 and uploads == []
    assert run("0", 3) == 0 and uploads == []
    assert run("0", None) == 0 and uploads == []  # the wrapper died without a status
    assert run("0", 0) == 0 and uploads == [(f"{tmp_path}/out", "s3://b/k")]


@pytest.mark.parametrize("command, status", [(["true"], 0), (["sh", "-c", "exit 3"], 3)])
def test_the_node_wrapper_reports_the_commands_status_through_the_fifo(step_io, tmp_path, command, status):
    import subprocess

    fifo = str(tmp_path / "node-exit")
    step_io.make_fifo(fifo)
    wrapper = os.path.join(os.path.dirname(step_io.__file__), "step_node.sh")
    proc = subprocess.Popen(["sh", wrapper, *command], env={"PATH": "/usr/bin:/bin", "MLPLATFORM_NODE_EXIT": fifo})
    assert step_io.wait_for_node(fifo) == status
    assert proc.wait(timeout=30) == status


def test_the_node_wrapper_passes_sigterm_on_and_the_reader_sees_the_end(step_io, tmp_path):
    import signal
    import subprocess
    import time

    fifo = str(tmp_path / "node-exit")
    step_io.make_fifo(fifo)
    wrapper = os.path.join(os.path.dirname(step_io.__file__), "step_node.sh")
    proc = subprocess.Popen(["sh", wrapper, "sleep", "60"], env={"PATH": "/usr/bin:/bin", "MLPLATFORM_NODE_EXIT": fifo})
    result = []
    reader = threading.Thread(target=lambda: result.append(step_io.wait_for_node(fifo)))
    reader.start()
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    reader.join(timeout=30)
    assert result == [128 + signal.SIGTERM]


def test_store_keys_come_from_the_mounted_files_and_reach_boto3(step_io, tmp_path, monkeypatch):
    # The synthesized step pods pass AWS_ACCESS_KEY_ID_FILE/AWS_SECRET_ACCESS_KEY_FILE (pod.ts credentialFiles), never the keys.
    (tmp_path / "id").write_text("AKIDTENANT")
    (tmp_path / "secret").write_text("s3cr/t+")
    env = {"AWS_ACCESS_KEY_ID_FILE": str(tmp_path / "id"), "AWS_SECRET_ACCESS_KEY_FILE": str(tmp_path / "secret")}
    assert step_io.store_keys(env) == {"aws_access_key_id": "AKIDTENANT", "aws_secret_access_key": "s3cr/t+"}
    assert step_io.store_keys({}) == {}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    creds = step_io.client()._request_signer._credentials
    assert (creds.access_key, creds.secret_key) == ("AKIDTENANT", "s3cr/t+")
