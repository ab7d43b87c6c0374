"""sweep_lib.Mlflow, the REST client of the sweep: authentication from the environment, retries with
backoff on 5xx, 429 and network errors (never on other 4xx), get-or-create of the experiment when
workers race, and log-batch chunking within MLflow's limits. urlopen is replaced; nothing is sent."""
import io
import json
import urllib.error
import urllib.request

import pytest

import sweep_lib as L

URI = "http://mlflow.example:5000"


class Response(io.BytesIO):
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def http_error(code, body):
    return urllib.error.HTTPError(URI, code, "error", {}, io.BytesIO(body if isinstance(body, bytes) else json.dumps(body).encode()))


@pytest.fixture
def server(monkeypatch):
    """urlopen answering from a script of responses (dict: 200 with that JSON; an exception: raised);
    records each request and each backoff sleep."""
    state = {"script": [], "requests": [], "sleeps": []}

    def urlopen(req, timeout):
        state["requests"].append({"method": req.get_method(), "url": req.full_url, "headers": dict(req.header_items()),
                                  "body": json.loads(req.data) if req.data else None, "timeout": timeout})
        answer = state["script"].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Response(json.dumps(answer).encode())
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(L.time, "sleep", state["sleeps"].append)
    for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(key + "_FILE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", URI + "/")
    return state


def client(experiment="resnet"):
    return L.Mlflow({"tracking": {"experiment": experiment}})


def test_enabled_only_with_a_uri_and_an_experiment(server, monkeypatch):
    assert client().enabled
    assert not L.Mlflow({"tracking": None}).enabled
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    assert not client().enabled


def test_basic_auth_from_username_and_password_else_a_bearer_token(server, monkeypatch):
    assert "Authorization" not in client().headers
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    assert client().headers["Authorization"] == "Bearer tok"
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "team")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "p:w")
    assert client().headers["Authorization"] == "Basic dGVhbTpwOnc="  # base64("team:p:w")


def test_basic_auth_from_mounted_credential_files(server, monkeypatch, tmp_path):
    (tmp_path / "u").write_text("team")
    (tmp_path / "p").write_text("p:w")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME_FILE", str(tmp_path / "u"))
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD_FILE", str(tmp_path / "p"))
    assert client().headers["Authorization"] == "Basic dGVhbTpwOnc="  # base64("team:p:w")


def test_a_call_sends_json_to_the_api_path_with_the_query(server):
    server["script"] = [{"ok": True}]
    assert client().call("GET", "experiments/get-by-name", query={"experiment_name": "a b&c"}) == {"ok": True}
    [req] = server["requests"]
    assert req["url"] == URI + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=a+b%26c"
    assert req["body"] is None and req["timeout"] == 30
    assert req["headers"]["Content-type"] == "application/json"


@pytest.mark.parametrize("failure", [
    http_error(503, {"error_code": "TEMPORARILY_UNAVAILABLE"}),
    http_error(429, {"error_code": "REQUEST_LIMIT_EXCEEDED"}),
    http_error(502, b"<html>bad gateway</html>"),
    urllib.error.URLError("connection refused"),
    ConnectionResetError("reset"),
])
def test_server_errors_throttling_and_network_errors_are_retried_with_backoff(server, failure):
    server["script"] = [failure, failure, {"run": 1}]
    assert client().call("POST", "runs/create", {"x": 1}) == {"run": 1}
    assert server["sleeps"] == [1, 2]
    assert [r["body"] for r in server["requests"]] == [{"x": 1}] * 3


def test_after_four_tries_the_call_fails_as_unavailable_with_the_last_message(server):
    server["script"] = [urllib.error.URLError("connection refused")] * 3 + [http_error(500, b"Internal Server Error")]
    with pytest.raises(L.MlflowError) as e:
        client().call("POST", "runs/update", {})
    assert (e.value.status, e.value.code) == (0, "UNAVAILABLE")
    assert str(e.value) == "MLflow  UNAVAILABLE: POST runs/update: Internal Server Error"
    assert server["sleeps"] == [1, 2, 4]


def test_other_client_errors_fail_at_once_with_mlflow_s_code(server):
    server["script"] = [http_error(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such experiment"})]
    with pytest.raises(L.MlflowError) as e:
        client().call("GET", "experiments/get-by-name")
    assert (e.value.status, e.value.code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "no such experiment" in str(e.value)
    assert server["sleeps"] == []


def test_the_backoff_is_capped_at_ten_seconds(server):
    server["script"] = [urllib.error.URLError("down")] * 6
    with pytest.raises(L.MlflowError):
        client().call("GET", "x", tries=6)
    assert server["sleeps"] == [1, 2, 4, 8, 10]


def test_the_experiment_is_found_by_name(server):
    server["script"] = [{"experiment": {"experiment_id": "7"}}]
    assert client().experiment_id() == "7"


def test_a_missing_experiment_is_created(server):
    server["script"] = [http_error(404, {"error_code": "RESOURCE_DOES_NOT_EXIST"}), {"experiment_id": "8"}]
    assert client().experiment_id() == "8"
    assert server["requests"][1]["body"] == {"name": "resnet"}


def test_an_experiment_created_meanwhile_by_another_worker_is_found_again(server):
    server["script"] = [http_error(404, {"error_code": "RESOURCE_DOES_NOT_EXIST"}), http_error(400, {"error_code": "RESOURCE_ALREADY_EXISTS"}),
                        {"experiment": {"experiment_id": "9"}}]
    assert client().experiment_id() == "9"
    assert [r["method"] for r in server["requests"]] == ["GET", "POST", "GET"]


def test_other_errors_of_get_or_create_are_raised(server):
    server["script"] = [http_error(403, {"error_code": "PERMISSION_DENIED"})]
    with pytest.raises(L.MlflowError, match="PERMISSION_DENIED"):
        client().experiment_id()


def test_log_batch_splits_within_mlflow_s_limits(server):
    server["script"] = [{}] * 10
    metrics = [L.metric("loss", i, i) for i in range(1200)]
    params = [{"key": "p%d" % i, "value": "v"} for i in range(150)]
    tags = [{"key": "t%d" % i, "value": "v"} for i in range(30)]
    client().log_batch("run1", metrics, params, tags)
    bodies = [r["body"] for r in server["requests"]]
    assert [(len(b["metrics"]), len(b["params"]), len(b["tags"])) for b in bodies] == [(870, 100, 30), (330, 50, 0)]
    assert all(b["run_id"] == "run1" for b in bodies)
    assert [m["step"] for b in bodies for m in b["metrics"]] == list(range(1200))


def test_log_batch_of_nothing_sends_nothing(server):
    client().log_batch("run1")
    assert server["requests"] == []
