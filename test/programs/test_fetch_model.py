"""The fetch step's logic (fetch_model.py) with a stand-in for `mlflow.artifacts.download_artifacts`
that behaves as MLflow's does (it creates `dst_path`, and returns the folder or file it downloaded;
for a source that holds nothing, the empty `dst_path`). test/cluster/services/model-flow.test.ts runs
the program whole in the endpoint's synthesized init container against MLflow and SeaweedFS."""
import os

import pytest


@pytest.fixture
def fetch_model(load_program):
    return load_program("fetch_model")


def downloader(files, calls=None, subdir=None):
    """MLflow's download_artifacts with `files` ({relative path: bytes}) at the source; `subdir`:
    it returns `dst_path/<subdir>` (an `s3://` URI whose last element MLflow downloads as a folder);
    `files` None: the source is one file, returned as `dst_path/model.onnx`."""

    def download(artifact_uri, dst_path):
        if calls is not None:
            calls.append((artifact_uri, dst_path))
        os.makedirs(dst_path, exist_ok=True)
        if files is None:
            path = os.path.join(dst_path, "model.onnx")
            with open(path, "wb") as f:
                f.write(b"onnx")
            return path
        root = os.path.join(dst_path, subdir) if subdir else dst_path
        for rel, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "wb") as f:
                f.write(data)
        os.makedirs(root, exist_ok=True)
        return root

    return download


def tree(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


def test_a_model_folder_lands_in_the_model_dir_and_the_staging_folder_is_gone(fetch_model, tmp_path):
    files = {"MLmodel": b"flavors: {}\n", "model.onnx": b"\x00\x01", "extra/labels.txt": b"cat\n"}
    calls = []
    dst, staging = str(tmp_path / "models" / "repository" / "m" / "1"), str(tmp_path / "models" / ".staging")
    names = fetch_model.fetch("models:/m@champion", dst, staging, downloader(files, calls))
    assert calls == [("models:/m@champion", staging)]
    assert names == ["MLmodel", "extra", "model.onnx"]
    assert tree(dst) == files
    assert not os.path.exists(staging)


def test_a_downloaded_subfolder_and_a_single_file(fetch_model, tmp_path):
    dst, staging = str(tmp_path / "model"), str(tmp_path / ".staging")
    fetch_model.fetch("s3://b/models/iris/2", dst, staging, downloader({"a.bin": b"a"}, subdir="2"))
    assert tree(dst) == {"a.bin": b"a"}
    fetch_model.fetch("s3://b/models/iris/model.onnx", dst, staging, downloader(None))
    assert tree(dst) == {"model.onnx": b"onnx"}


def test_an_empty_source_fails_instead_of_serving_nothing(fetch_model, tmp_path):
    with pytest.raises(SystemExit, match=r"^nothing to download at models:/m@champion: its source holds no files$"):
        fetch_model.fetch("models:/m@champion", str(tmp_path / "model"), str(tmp_path / ".staging"), downloader({}))
    assert not os.path.exists(tmp_path / "model")


def test_a_restart_replaces_what_an_earlier_attempt_left(fetch_model, tmp_path):
    dst, staging = tmp_path / "model", tmp_path / ".staging"
    (dst / "old").mkdir(parents=True)
    (dst / "old" / "stale.bin").write_bytes(b"stale")
    (staging / "partial").mkdir(parents=True)
    fetch_model.fetch("models:/m/3", str(dst), str(staging), downloader({"new.bin": b"new"}))
    assert tree(str(dst)) == {"new.bin": b"new"}


def test_main_reads_its_environment_and_uses_mlflow(fetch_model, tmp_path, monkeypatch, capsys):
    import sys
    import types

    calls = []
    artifacts = types.ModuleType("mlflow.artifacts")
    artifacts.download_artifacts = downloader({"w.bin": b"w"}, calls)
    mlflow = types.ModuleType("mlflow")
    mlflow.artifacts = artifacts
    monkeypatch.setitem(sys.modules, "mlflow", mlflow)
    monkeypatch.setitem(sys.modules, "mlflow.artifacts", artifacts)
    monkeypatch.setenv("MODEL_URI", "models:/m@candidate")
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "models" / "m"))
    monkeypatch.setenv("MODEL_STAGING", str(tmp_path / "models" / ".staging"))
    fetch_model.main()
    assert calls == [("models:/m@candidate", str(tmp_path / "models" / ".staging"))]
    assert capsys.readouterr().out == "model ready in %s ['w.bin']\n" % (tmp_path / "models" / "m")


def test_credentials_from_the_mounted_files_are_set_in_the_process(fetch_model, tmp_path):
    # endpoint-pod.ts mounts the MLflow user and store keys and passes <VARIABLE>_FILE (pod.ts credentialFiles);
    # MLflow's client and boto3 read the variables, so the program sets them in its own environment.
    for name in fetch_model.CREDENTIALS:
        (tmp_path / name).write_text("value of " + name)
    env = {name + "_FILE": str(tmp_path / name) for name in fetch_model.CREDENTIALS}
    env["MLFLOW_TRACKING_PASSWORD"] = "stale"
    fetch_model.load_credentials(env)
    for name in fetch_model.CREDENTIALS:
        assert env[name] == "value of " + name
    none = {}
    fetch_model.load_credentials(none)
    assert none == {}


def test_an_unreadable_credential_file_names_the_variable_and_the_path(fetch_model, tmp_path):
    with pytest.raises(SystemExit) as e:
        fetch_model.load_credentials({"AWS_ACCESS_KEY_ID_FILE": str(tmp_path / "absent")})
    assert str(e.value) == "cannot read AWS_ACCESS_KEY_ID from %s (No such file or directory): is the Secret mounted?" % (tmp_path / "absent")


class HTTPError(Exception):
    """requests' HTTPError as MLflow's artifact client raises it: the response, with its status and URL."""

    def __init__(self, status, url):
        super().__init__("%s Client Error: Forbidden for url: %s" % (status, url))
        self.response = type("Response", (), {"status_code": status, "url": url})()


class MlflowException(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.error_code = code


def failing(e):
    def download(artifact_uri, dst_path):
        raise e
    return download


@pytest.mark.parametrize("url", [
    # The listing MLflow's client asks first (mlflow/store/artifact/http_artifact_repo.py list_artifacts) ...
    "http://ml-tracking:5000/api/2.0/mlflow-artifacts/artifacts?path=12%2F0a1b%2Fartifacts%2Fmodel",
    # ... and a file's download.
    "http://ml-tracking:5000/api/2.0/mlflow-artifacts/artifacts/12/0a1b/artifacts/model/MLmodel",
])
def test_a_403_from_the_artifact_proxy_names_the_experiment_and_the_fix(fetch_model, tmp_path, monkeypatch, url):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "b")
    with pytest.raises(SystemExit) as e:
        fetch_model.fetch("models:/shared@champion", str(tmp_path / "m"), str(tmp_path / "s"), failing(HTTPError(403, url)))
    message = str(e.value)
    assert message.startswith("the tracking server refused MLflow user b the files of models:/shared@champion (HTTP 403 from its artifact proxy for 12/0a1b/artifacts/model")
    assert "logged through the tracking server into experiment 12," in message
    assert "platform.shareExperiment('<experiment name>', { owner: '<its tenant>', readers: ['b'] })" in message


def test_a_registry_refusal_names_shareRegisteredModel(fetch_model, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "c")
    with pytest.raises(SystemExit, match=r"refused MLflow user c the model models:/shared@champion \(PERMISSION_DENIED\): .*platform\.shareRegisteredModel"):
        fetch_model.fetch("models:/shared@champion", str(tmp_path / "m"), str(tmp_path / "s"), failing(MlflowException("PERMISSION_DENIED")))


@pytest.mark.parametrize("error", [HTTPError(500, "http://ml-tracking:5000/api/2.0/mlflow-artifacts/artifacts?path=1"), HTTPError(403, "https://s3.example.com/bucket/key"),
                                   MlflowException("RESOURCE_DOES_NOT_EXIST"), OSError("disk full")])
def test_any_other_failure_is_raised_as_is(fetch_model, tmp_path, error):
    with pytest.raises(type(error)):
        fetch_model.fetch("models:/m/1", str(tmp_path / "m"), str(tmp_path / "s"), failing(error))
