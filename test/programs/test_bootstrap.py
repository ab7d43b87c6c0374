"""The credentials bootstrap (bootstrap.py) carrying out a plan against an in-memory Kubernetes API (Secrets
only) and a scripted MLflow: what it creates, keeps, replaces and copies, how templates render, which
failures stop it and with what message. test/cdk8s/bootstrap-engine.test.ts runs the whole program over HTTP
against the plan MlPlatform synthesizes."""
import base64
import io
import json
import re
import urllib.request

import pytest

import bootstrap as B

LABELS = {"app.kubernetes.io/managed-by": "mlplatform"}


def b64(s):
    return base64.b64encode(s.encode()).decode()


class FakeApi:
    """The Secrets of a Kubernetes API in memory, in place of bootstrap.api; every request recorded."""

    PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/secrets(?:/([^/]+))?$")

    def __init__(self, secrets=None):
        self.secrets = {k: {"data": {kk: b64(vv) for kk, vv in v.items()}, "metadata": {"labels": {}}} for k, v in (secrets or {}).items()}
        self.requests = []
        self.conflict_on_create = set()

    def __call__(self, method, path, body=None):
        ns, name = self.PATH.match(path).groups()
        self.requests.append((method, "%s/%s" % (ns, name or body["metadata"]["name"])))
        if method == "GET":
            s = self.secrets.get("%s/%s" % (ns, name))
            return (200, s) if s else (404, {"message": "secrets %r not found" % name})
        key = "%s/%s" % (ns, body["metadata"]["name"])
        assert body["kind"] == "Secret" and body["type"] == "Opaque" and body["metadata"]["namespace"] == ns
        if method == "POST":
            if key in self.secrets or key in self.conflict_on_create:
                return 409, {"message": "already exists"}
            self.secrets[key] = body
            return 201, body
        if method == "PUT":
            assert name == body["metadata"]["name"]
            if key not in self.secrets:
                return 404, {"message": "secrets %r not found" % name}
            self.secrets[key] = body
            return 200, body
        raise AssertionError(method)

    def data(self, key):
        return {k: base64.b64decode(v).decode() for k, v in self.secrets[key]["data"].items()}

    def writes(self):
        return [r for r in self.requests if r[0] != "GET"]


@pytest.fixture
def k8s(monkeypatch):
    def install(plan, secrets=None):
        fake = FakeApi(secrets)
        monkeypatch.setattr(B, "api", fake)
        monkeypatch.setattr(B, "PLAN", dict({"labels": LABELS, "generate": [], "compose": [], "copy": []}, **plan))
        return fake
    return install


# ---------------------------------------------------------------------------------------------
# generate

def test_an_absent_secret_is_generated_with_fixed_values_and_random_hex(k8s, capsys):
    api = k8s({"generate": [{"namespace": "ml", "name": "db", "keys": {"username": {"value": "mlflow"}, "password": {"randomBytes": 24}}}]})
    B.generate()
    data = api.data("ml/db")
    assert data["username"] == "mlflow"
    assert re.fullmatch(r"[0-9a-f]{48}", data["password"])
    assert api.secrets["ml/db"]["metadata"]["labels"] == dict(LABELS, **{"mlplatform.io/generated": "true"})
    assert "[bootstrap] generated ml/db" in capsys.readouterr().out


def test_generated_passwords_differ_between_secrets_and_runs(k8s):
    plan = {"generate": [{"namespace": "ml", "name": n, "keys": {"password": {"randomBytes": 16}}} for n in ("a", "b")]}
    first = k8s(plan)
    B.generate()
    second = k8s(plan)
    B.generate()
    values = [api.data("ml/" + n)["password"] for api in (first, second) for n in ("a", "b")]
    assert len(set(values)) == 4


def test_an_existing_secret_is_kept_as_it_is(k8s, capsys):
    api = k8s({"generate": [{"namespace": "ml", "name": "db", "keys": {"password": {"randomBytes": 24}}}]}, {"ml/db": {"password": "kept"}})
    B.generate()
    assert api.data("ml/db") == {"password": "kept"}
    assert api.writes() == []
    assert "[bootstrap] kept ml/db" in capsys.readouterr().out


TENANT_DB = {"namespace": "vision", "name": "db", "keys": {"username": {"value": "ml_tenant_vision"}, "password": {"randomBytes": 24}, "database": {"value": "ml_studies_vision"}},
             "replaceWhenDifferent": True}


def test_replace_when_different_keeps_a_generated_secret_that_fits_its_plan(k8s, capsys):
    api = k8s({"generate": [TENANT_DB]}, {"vision/db": {"username": "ml_tenant_vision", "password": "kept", "database": "ml_studies_vision"}})
    api.secrets["vision/db"]["metadata"]["labels"] = {"mlplatform.io/generated": "true"}
    B.generate()
    assert api.writes() == []
    assert "[bootstrap] kept vision/db" in capsys.readouterr().out


@pytest.mark.parametrize("existing, labels, why", [
    # What an older version put there: a copy of the platform's own login (not generated, other user name).
    ({"username": "mlflow", "password": "the-superuser-password"}, {}, "copied"),
    ({"username": "ml_tenant_vision", "password": "x", "database": "ml_studies_vision"}, {}, "not generated by this program"),
    ({"username": "someone-else", "password": "x", "database": "ml_studies_vision"}, {"mlplatform.io/generated": "true"}, "fixed value differs"),
    ({"username": "ml_tenant_vision", "password": "", "database": "ml_studies_vision"}, {"mlplatform.io/generated": "true"}, "random key empty"),
])
def test_replace_when_different_replaces_a_secret_that_does_not_fit(k8s, capsys, existing, labels, why):
    api = k8s({"generate": [TENANT_DB]}, {"vision/db": existing})
    api.secrets["vision/db"]["metadata"]["labels"] = labels
    B.generate()
    data = api.data("vision/db")
    assert data["username"] == "ml_tenant_vision" and data["database"] == "ml_studies_vision", why
    assert re.fullmatch(r"[0-9a-f]{48}", data["password"]) and data["password"] != existing["password"], why
    assert api.secrets["vision/db"]["metadata"]["labels"]["mlplatform.io/generated"] == "true"
    assert "(it did not match its plan)" in capsys.readouterr().out


def test_a_secret_created_concurrently_is_kept(k8s, capsys):
    api = k8s({"generate": [{"namespace": "ml", "name": "db", "keys": {"password": {"randomBytes": 24}}}]})
    api.conflict_on_create.add("ml/db")
    B.generate()
    assert api.writes() == [("POST", "ml/db")]
    assert "kept (created concurrently) ml/db" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# compose: templates over other Secrets

SOURCES = {"ml/db": {"username": "mlflow", "password": "p@ss/w%rd:1"}, "ml/store": {"key": "AKIA"}}


@pytest.mark.parametrize("template, rendered", [
    ("{{secret:ml/db:username}}", "mlflow"),
    ("postgresql://{{secret:ml/db:username|url}}:{{secret:ml/db:password|url}}@db:5432/mlflow",
     "postgresql://mlflow:p%40ss%2Fw%25rd%3A1@db:5432/mlflow"),
    ("password = {{secret:ml/db:password|ini}}", "password = p@ss/w%%rd:1"),
    ("{{secret:ml/db:password|url|ini}}", "p%%40ss%%2Fw%%25rd%%3A1"),
    ("{{secret:ml/db:username}}-{{secret:ml/store:key}}", "mlflow-AKIA"),
    ("no template", "no template"),
    ("{{secret:ml/db:username|ini|url}}", "{{secret:ml/db:username|ini|url}}"),  # the filters go url, then ini
    ("{{ secret:ml/db:username }}", "{{ secret:ml/db:username }}"),
])
def test_templates_render_from_other_secrets(k8s, template, rendered):
    api = k8s({"compose": [{"namespace": "ml", "name": "uri", "keys": {"v": template}}]}, SOURCES)
    B.compose()
    assert api.data("ml/uri") == {"v": rendered}


def test_a_value_that_looks_like_a_template_is_not_expanded_again(k8s):
    api = k8s({"compose": [{"namespace": "ml", "name": "out", "keys": {"v": "<{{secret:ml/evil:v}}>"}}]},
              {"ml/evil": {"v": "{{secret:ml/db:password}}"}, "ml/db": {"password": "secret"}})
    B.compose()
    assert api.data("ml/out") == {"v": "<{{secret:ml/db:password}}>"}


def test_a_composed_secret_is_replaced_on_every_run(k8s, capsys):
    api = k8s({"compose": [{"namespace": "ml", "name": "uri", "keys": {"v": "{{secret:ml/db:username}}"}}]},
              dict(SOURCES, **{"ml/uri": {"v": "stale"}}))
    B.compose()
    assert api.data("ml/uri") == {"v": "mlflow"}
    # The Secret exists (the manifests create it, empty): one update, no create (the Role has no `create`).
    assert api.writes() == [("PUT", "ml/uri")]
    assert "[bootstrap] written ml/uri" in capsys.readouterr().out


def test_an_empty_secret_from_the_manifests_is_filled_by_generate_and_by_users_without_a_create(k8s, capsys):
    api = k8s({"generate": [{"namespace": "ml", "name": "db", "keys": {"username": {"value": "mlflow"}, "password": {"randomBytes": 24}}}]}, {"ml/db": {}})
    B.generate()
    assert api.data("ml/db")["username"] == "mlflow" and re.fullmatch(r"[0-9a-f]{48}", api.data("ml/db")["password"])
    assert api.writes() == [("PUT", "ml/db")]
    assert "[bootstrap] generated ml/db" in capsys.readouterr().out


def test_without_the_manifests_secret_a_write_creates_it(k8s, capsys):
    api = k8s({"compose": [{"namespace": "ml", "name": "uri", "keys": {"v": "{{secret:ml/db:username}}"}}]}, SOURCES)
    B.compose()
    assert api.writes() == [("PUT", "ml/uri"), ("POST", "ml/uri")]
    assert "[bootstrap] created ml/uri" in capsys.readouterr().out


@pytest.mark.parametrize("template, message", [
    ("{{secret:ml/db:missing}}", "template needs ml/db key missing, which does not exist"),
    ("{{secret:ml/nope:key}}", "template needs ml/nope key key, which does not exist"),
])
def test_a_template_over_a_missing_secret_or_key_stops_before_writing(k8s, template, message):
    api = k8s({"compose": [{"namespace": "ml", "name": "uri", "keys": {"ok": "{{secret:ml/db:username}}", "bad": template}}]}, SOURCES)
    with pytest.raises(SystemExit, match=re.escape(message)):
        B.compose()
    assert api.writes() == []


# ---------------------------------------------------------------------------------------------
# copy

def test_a_copy_takes_the_listed_keys_under_their_new_names(k8s):
    api = k8s({"copy": [{"from": {"namespace": "ml", "name": "store"}, "to": {"namespace": "vision", "name": "store"}, "keys": {"AWS_ACCESS_KEY_ID": "key"}}]}, SOURCES)
    B.copy()
    assert api.data("vision/store") == {"AWS_ACCESS_KEY_ID": "AKIA"}


def test_a_copy_of_a_missing_secret_stops(k8s):
    k8s({"copy": [{"from": {"namespace": "ml", "name": "gone"}, "to": {"namespace": "vision", "name": "x"}, "keys": {"a": "b"}}]})
    with pytest.raises(SystemExit, match="cannot copy ml/gone: it does not exist"):
        B.copy()


# ---------------------------------------------------------------------------------------------
# The bucket on the embedded object store

BUCKET = {"bucket": {"name": "mlflow", "endpoint": "http://store:8333", "region": "us-east-1",
                     "credentials": {"namespace": "ml", "name": "store", "accessKeyIdKey": "key", "secretAccessKeyKey": "secret"}}}


@pytest.fixture
def s3(k8s, monkeypatch):
    import boto3
    from botocore.exceptions import ClientError
    state = {"clients": [], "created": [], "errors": []}

    class Client:
        def create_bucket(self, Bucket):
            if state["errors"]:
                code = state["errors"].pop(0)
                raise ClientError({"Error": {"Code": code, "Message": code}}, "CreateBucket")
            state["created"].append(Bucket)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: state["clients"].append((args, kwargs)) or Client())
    monkeypatch.setattr(B.time, "sleep", lambda s: None)
    k8s(BUCKET, {"ml/store": {"key": "AKIA", "secret": "shh"}})
    return state


def test_the_bucket_is_created_with_the_store_s_credentials(s3, capsys):
    B.bucket()
    assert s3["clients"] == [(("s3",), {"endpoint_url": "http://store:8333", "region_name": "us-east-1", "aws_access_key_id": "AKIA", "aws_secret_access_key": "shh"})]
    assert s3["created"] == ["mlflow"]
    assert "[bootstrap] created bucket mlflow" in capsys.readouterr().out


@pytest.mark.parametrize("code", ["BucketAlreadyOwnedByYou", "BucketAlreadyExists"])
def test_an_existing_bucket_is_kept(s3, capsys, code):
    s3["errors"] = [code]
    B.bucket()
    assert s3["created"] == []
    assert "[bootstrap] kept bucket mlflow" in capsys.readouterr().out


def test_other_store_errors_are_retried(s3, capsys):
    s3["errors"] = ["ServiceUnavailable", "InternalError"]
    B.bucket()
    assert s3["created"] == ["mlflow"]
    assert capsys.readouterr().out.count("object store not ready yet") == 2


# ---------------------------------------------------------------------------------------------
# MLflow users

class Health:
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


@pytest.fixture
def mlflow(k8s, monkeypatch):
    """A plan with two tenants' MLflow users; MLflow answers from `answers[username]` (a list per call)."""
    calls, answers = [], {}

    def fake(method, uri, path, auth, body):
        calls.append((method, path, auth, body["username"]))
        return answers[body["username"]].pop(0)
    monkeypatch.setattr(B, "mlflow", fake)
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Health())
    plan = {"mlflowUsers": {"uri": "http://tracking:5000", "admin": {"namespace": "ml", "name": "admin", "usernameKey": "user", "passwordKey": "pw"},
                            "users": [{"username": "vision", "secret": {"namespace": "vision", "name": "mlflow"}}]}}

    def install(secrets=None):
        api = k8s(plan, dict({"ml/admin": {"user": "admin", "pw": "admin-pw"}}, **(secrets or {})))
        return api, calls, answers
    return install


def test_a_new_user_is_created_and_its_password_stored(mlflow):
    api, calls, answers = mlflow()
    answers["vision"] = [(200, {})]
    B.users()
    stored = api.data("vision/mlflow")
    assert stored["username"] == "vision" and re.fullmatch(r"[0-9a-f]{48}", stored["password"])
    assert calls == [("POST", "/api/2.0/mlflow/users/create", ("admin", "admin-pw"), "vision")]


def test_a_new_user_s_password_fills_the_empty_secret_of_the_manifests(mlflow):
    api, calls, answers = mlflow({"vision/mlflow": {}})
    answers["vision"] = [(200, {})]
    B.users()
    assert api.data("vision/mlflow")["username"] == "vision"
    assert api.writes() == [("PUT", "vision/mlflow")]


def test_an_existing_user_with_its_secret_is_left_alone(mlflow):
    api, calls, answers = mlflow({"vision/mlflow": {"username": "vision", "password": "old"}})
    answers["vision"] = [(400, {"error_code": "RESOURCE_ALREADY_EXISTS"})]
    B.users()
    assert api.data("vision/mlflow") == {"username": "vision", "password": "old"}
    assert [c[1] for c in calls] == ["/api/2.0/mlflow/users/create"]
    assert api.writes() == []


def test_an_existing_user_whose_secret_was_lost_gets_a_new_password_stored(mlflow):
    api, calls, answers = mlflow()
    answers["vision"] = [(400, {"error_code": "RESOURCE_ALREADY_EXISTS"}), (200, {})]
    B.users()
    assert [c[:2] for c in calls] == [("POST", "/api/2.0/mlflow/users/create"), ("PATCH", "/api/2.0/mlflow/users/update-password")]
    assert api.data("vision/mlflow")["username"] == "vision"


@pytest.mark.parametrize("answers, message", [
    ([(401, {"message": "Unauthorized"})], "creating MLflow user vision: HTTP 401"),
    ([(400, {"error_code": "RESOURCE_ALREADY_EXISTS"}), (403, {"message": "Forbidden"})], "resetting MLflow user vision: HTTP 403"),
])
def test_mlflow_refusing_stops_and_stores_nothing(mlflow, answers, message):
    api, _, scripted = mlflow()
    scripted["vision"] = answers
    with pytest.raises(SystemExit, match=message):
        B.users()
    assert api.writes() == []


def test_grants_are_given_with_the_admin_login_after_the_users(mlflow, monkeypatch):
    api, calls, answers = mlflow({"vision/mlflow": {"username": "vision", "password": "old"}})
    B.PLAN["mlflowUsers"]["grants"] = [{"username": "vision", "resourceType": "registered_model", "resourceId": "fraud", "permission": "READ"}]
    answers["vision"] = [(400, {"error_code": "RESOURCE_ALREADY_EXISTS"}), (200, {})]
    B.users()
    assert calls[-1] == ("POST", "/api/3.0/mlflow/users/permissions/grant", ("admin", "admin-pw"), "vision")


def test_a_refused_grant_stops_naming_it(mlflow):
    mlflow({"vision/mlflow": {"username": "vision", "password": "old"}})
    B.PLAN["mlflowUsers"]["grants"] = [{"username": "vision", "resourceType": "registered_model", "resourceId": "fraud", "permission": "READ"}]
    B.mlflow = lambda *a: (400, {"error_code": "RESOURCE_ALREADY_EXISTS"}) if a[2].endswith("/create") else (403, {"message": "no"})
    with pytest.raises(SystemExit, match="granting READ on registered_model fraud to vision: HTTP 403"):
        B.users()


# ---------------------------------------------------------------------------------------------
# restart: a workload that reads a composed Secret only at start

def test_a_composed_secret_that_changed_restarts_its_reader_and_only_then(k8s, monkeypatch, capsys):
    plan = {"compose": [{"namespace": "ml", "name": "s3", "keys": {"s3.json": "{{secret:ml/keys:v}}"}}],
            "restarts": [{"secret": {"namespace": "ml", "name": "s3"}, "workload": {"resource": "statefulsets", "namespace": "ml", "name": "ml-s3"}}]}
    patches = []
    for existing, expect_restart in [(None, False), ({"s3.json": "old"}, True), ({"s3.json": "new"}, False), ({"other": "x"}, False)]:
        secrets = {"ml/keys": {"v": "new"}}
        if existing is not None:
            secrets["ml/s3"] = existing
        fake = k8s(plan, secrets)
        B.CHANGED.clear()

        def api(method, path, body=None, content_type="application/json"):
            if path.startswith("/apis/apps/"):
                patches.append((method, path, content_type, body))
                return 200, {}
            return fake(method, path, body)
        monkeypatch.setattr(B, "api", api)
        before = len(patches)
        B.compose()
        B.restart()
        assert (len(patches) > before) == expect_restart, existing
    method, path, content_type, body = patches[0]
    assert (method, path, content_type) == ("PATCH", "/apis/apps/v1/namespaces/ml/statefulsets/ml-s3", "application/strategic-merge-patch+json")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["spec"]["template"]["metadata"]["annotations"]["mlplatform.io/restartedAt"])
    assert "(its Secret s3 changed)" in capsys.readouterr().out


def test_a_restart_refused_stops_but_a_missing_workload_is_only_logged(k8s, monkeypatch, capsys):
    k8s({"restarts": [{"secret": {"namespace": "ml", "name": "s3"}, "workload": {"resource": "statefulsets", "namespace": "ml", "name": "ml-s3"}}]})
    B.CHANGED.clear()
    B.CHANGED.add(("ml", "s3"))
    monkeypatch.setattr(B, "api", lambda *a, **k: (404, {"message": "not found"}))
    B.restart()
    assert "nothing to restart: statefulsets ml/ml-s3 does not exist yet" in capsys.readouterr().out
    monkeypatch.setattr(B, "api", lambda *a, **k: (403, {"message": "forbidden"}))
    with pytest.raises(SystemExit, match="restarting statefulsets ml/ml-s3: HTTP 403 forbidden"):
        B.restart()


def test_no_users_no_tracking_server_needed(k8s, monkeypatch):
    k8s({})
    monkeypatch.setattr(urllib.request, "urlopen", None)
    B.users()
    B.bucket()


# ---------------------------------------------------------------------------------------------
# The steps, their order, retries, configuration

def test_main_configures_then_runs_the_steps_in_order(monkeypatch, capsys):
    order = []
    monkeypatch.setattr(B, "configure", lambda: order.append("configure"))
    steps = ("generate", "databases", "compose", "copy", "restart", "bucket", "users")
    for step in steps:
        monkeypatch.setattr(B, step, lambda step=step: order.append(step))
    B.main()
    # The roles exist before the tracking server gets the URI that logs in with one (compose).
    assert order == ["configure", *steps]
    assert capsys.readouterr().out.endswith("[bootstrap] done\n")


def test_configure_reads_the_plan_the_token_and_the_api_from_the_environment(tmp_path, monkeypatch):
    (tmp_path / "plan.json").write_text(json.dumps({"labels": LABELS}))
    (tmp_path / "token").write_text("tok\n")
    monkeypatch.setattr(B, "PLAN", None)
    monkeypatch.setattr(B, "API", None)
    monkeypatch.setattr(B, "TOKEN", None)
    monkeypatch.setattr(B, "CTX", None)
    B.configure({"PLAN": str(tmp_path / "plan.json"), "SA_DIR": str(tmp_path), "K8S_API": "http://127.0.0.1:8001"})
    assert (B.PLAN, B.API, B.TOKEN, B.CTX) == ({"labels": LABELS}, "http://127.0.0.1:8001", "tok", None)
    # In the pod: the API Service's address, TLS with the ServiceAccount's CA.
    with open("/etc/ssl/certs/ca-certificates.crt") as src:
        (tmp_path / "ca.crt").write_text(src.read())
    B.configure({"PLAN": str(tmp_path / "plan.json"), "SA_DIR": str(tmp_path), "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"})
    assert B.API == "https://10.96.0.1:443" and B.CTX is not None


def test_retry_keeps_trying_until_the_deadline_then_stops_with_the_last_error(monkeypatch, capsys):
    now = [1000.0]
    monkeypatch.setattr(B.time, "time", lambda: now[0])
    monkeypatch.setattr(B.time, "sleep", lambda s: now.__setitem__(0, now[0] + s))
    monkeypatch.setattr(B, "WAIT_SECONDS", 12)
    attempts = []

    def down():
        attempts.append(now[0])
        raise ConnectionRefusedError("connection refused")
    with pytest.raises(SystemExit, match="object store: gave up after 12s: connection refused"):
        B.retry("object store", down)
    assert attempts == [1000.0, 1005.0, 1010.0, 1015.0]
    assert "[bootstrap] object store not ready yet: connection refused" in capsys.readouterr().out


def test_retry_returns_the_first_success(monkeypatch):
    monkeypatch.setattr(B.time, "sleep", lambda s: None)
    answers = iter([OSError("starting"), "ok"])

    def flaky():
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a
    assert B.retry("tracking server", flaky) == "ok"


@pytest.mark.parametrize("raw, parsed", [
    (b'{"kind": "Secret"}', {"kind": "Secret"}),
    (b"", {}),
    (b"Unauthorized\n", {"message": "Unauthorized"}),
    (b"<html>" + b"x" * 1000, {"message": "<html>" + "x" * 294}),
    (b"\xff\xfe", {"message": "\ufffd\ufffd"}),
])
def test_error_bodies_that_are_not_json_become_the_message(raw, parsed):
    assert B.parse(raw) == parsed


def test_the_api_sends_the_token_and_json(monkeypatch):
    seen = []

    class Reply(io.BytesIO):
        status = 201

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    def urlopen(req, context, timeout):
        seen.append((req.get_method(), req.full_url, dict(req.header_items()), req.data))
        return Reply(b'{"ok": true}')
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(B, "API", "http://api")
    monkeypatch.setattr(B, "TOKEN", "tok")
    assert B.api("POST", "/api/v1/namespaces/ml/secrets", {"a": 1}) == (201, {"ok": True})
    assert B.api("GET", "/api/v1/namespaces/ml/secrets/x") == (201, {"ok": True})
    (m1, url, headers, data), (m2, _, get_headers, get_data) = seen
    assert (m1, url, data) == ("POST", "http://api/api/v1/namespaces/ml/secrets", b'{"a": 1}')
    assert headers == {"Authorization": "Bearer tok", "Accept": "application/json", "Content-type": "application/json"}
    assert (m2, get_data) == ("GET", None) and "Content-type" not in get_headers


def test_unexpected_api_answers_stop_with_the_status_and_message(k8s, monkeypatch):
    k8s({"generate": [{"namespace": "ml", "name": "db", "keys": {"p": {"value": "x"}}}]})
    monkeypatch.setattr(B, "api", lambda method, path, body=None: (403, {"message": "secrets is forbidden"}))
    with pytest.raises(SystemExit, match=re.escape("reading secret ml/db: HTTP 403 secrets is forbidden")):
        B.generate()


# ---------------------------------------------------------------------------------------------
# experiment shares (MlPlatform.shareExperiment): looked up by name, created for the owner when missing

def share_fixture(mlflow, monkeypatch, answers):
    """The users step with one experiment share; MLflow answers `answers[(method, path without query)]` in turn."""
    mlflow({"vision/mlflow": {"username": "vision", "password": "old"}})
    B.PLAN["mlflowUsers"]["users"] = []
    B.PLAN["mlflowUsers"]["experimentShares"] = [{"name": "resnet runs", "owner": "vision", "readers": ["nlp", "audio"]}]
    calls = []

    def fake(method, uri, path, auth, body):
        calls.append((method, path, auth, body))
        return answers[(method, path.split("?")[0])].pop(0)
    monkeypatch.setattr(B, "mlflow", fake)
    return calls


def test_a_missing_experiment_is_created_with_the_admin_login_the_owner_gets_manage_and_the_readers_read(mlflow, monkeypatch, capsys):
    calls = share_fixture(mlflow, monkeypatch, {
        ("GET", "/api/2.0/mlflow/experiments/get-by-name"): [(404, {"error_code": "RESOURCE_DOES_NOT_EXIST"})],
        ("POST", "/api/2.0/mlflow/experiments/create"): [(200, {"experiment_id": "7"})],
        ("POST", "/api/3.0/mlflow/users/permissions/grant"): [(200, {})] * 3,
    })
    B.users()
    admin = ("admin", "admin-pw")
    assert calls == [
        ("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=resnet+runs", admin, None),
        ("POST", "/api/2.0/mlflow/experiments/create", admin, {"name": "resnet runs"}),
        ("POST", "/api/3.0/mlflow/users/permissions/grant", admin, {"username": "vision", "resource_type": "experiment", "resource_id": "7", "permission": "MANAGE"}),
        ("POST", "/api/3.0/mlflow/users/permissions/grant", admin, {"username": "nlp", "resource_type": "experiment", "resource_id": "7", "permission": "READ"}),
        ("POST", "/api/3.0/mlflow/users/permissions/grant", admin, {"username": "audio", "resource_type": "experiment", "resource_id": "7", "permission": "READ"}),
    ]
    out = capsys.readouterr().out
    assert "created experiment resnet runs (7) for vision" in out
    assert "granted READ on experiment resnet runs (7) to nlp" in out


def test_an_existing_experiment_of_the_owner_is_shared_without_touching_the_owner(mlflow, monkeypatch):
    calls = share_fixture(mlflow, monkeypatch, {
        ("GET", "/api/2.0/mlflow/experiments/get-by-name"): [(200, {"experiment": {"experiment_id": "3", "lifecycle_stage": "active"}})],
        ("GET", "/api/3.0/mlflow/users/permissions/get"): [(200, {"allowed": True, "permission": "MANAGE"})],
        ("POST", "/api/3.0/mlflow/users/permissions/grant"): [(200, {})] * 2,
    })
    B.users()
    assert calls[1][:2] == ("GET", "/api/3.0/mlflow/users/permissions/get?username=vision&resource_type=experiment&resource_id=3")
    assert [(c[3]["username"], c[3]["permission"]) for c in calls[2:]] == [("nlp", "READ"), ("audio", "READ")]


@pytest.mark.parametrize("answers, message", [
    # Another tenant created an experiment of that name: sharing it would hand it to the declared owner.
    ({("GET", "/api/2.0/mlflow/experiments/get-by-name"): [(200, {"experiment": {"experiment_id": "3", "lifecycle_stage": "active"}})],
      ("GET", "/api/3.0/mlflow/users/permissions/get"): [(200, {"allowed": False, "permission": "NO_PERMISSIONS"})]},
     "sharing experiment 'resnet runs': it exists (id 3) but its declared owner vision does not manage it (NO_PERMISSIONS): another tenant created it"),
    ({("GET", "/api/2.0/mlflow/experiments/get-by-name"): [(200, {"experiment": {"experiment_id": "3", "lifecycle_stage": "deleted"}})]},
     "sharing experiment 'resnet runs': it is deleted (id 3); restore it or delete it permanently"),
    ({("GET", "/api/2.0/mlflow/experiments/get-by-name"): [(404, {"error_code": "RESOURCE_DOES_NOT_EXIST"})],
      ("POST", "/api/2.0/mlflow/experiments/create"): [(200, {"experiment_id": "7"})],
      ("POST", "/api/3.0/mlflow/users/permissions/grant"): [(200, {}), (403, {"message": "no"})]},
     "granting READ on experiment resnet runs (7) to nlp: HTTP 403"),
])
def test_an_experiment_share_that_cannot_be_made_stops_the_bootstrap_naming_why(mlflow, monkeypatch, answers, message):
    share_fixture(mlflow, monkeypatch, answers)
    with pytest.raises(SystemExit, match=re.escape(message)):
        B.users()


# ---------------------------------------------------------------------------------------------
# INI credential files (issue #20 item 5: the users' containers read the tenant's credentials as files)

AWS_FILE = {"credentials": {"section": "default", "values": {"aws_access_key_id": "accessKeyId", "aws_secret_access_key": "secretAccessKey"}, "interpolation": False}}
MLFLOW_FILE = {"credentials": {"section": "mlflow", "values": {"mlflow_tracking_username": "username", "mlflow_tracking_password": "password"}, "interpolation": True}}


def read_raw(text):
    # botocore/configloader.py raw_config_parse: configparser.RawConfigParser
    import configparser
    cp = configparser.RawConfigParser()
    cp.read_string(text)
    return dict(cp["default"])


def read_interpolated(text):
    # mlflow/utils/credentials.py _read_mlflow_creds_from_file: configparser.ConfigParser (interpolation)
    import configparser
    cp = configparser.ConfigParser()
    cp.read_string(text)
    return dict(cp["mlflow"])


@pytest.mark.parametrize("value", ["plain0123", "a%b", "100%", "%(x)s", "k=v==", "a:b", "x;y#z", "[s]", "/+AbC=", "%%"])
def test_ini_files_read_back_exactly_by_the_reader_s_own_parser(value):
    aws = B.ini_file(AWS_FILE["credentials"], {"accessKeyId": "AKIA", "secretAccessKey": value}, "ns/s")
    assert read_raw(aws) == {"aws_access_key_id": "AKIA", "aws_secret_access_key": value}
    ml = B.ini_file(MLFLOW_FILE["credentials"], {"username": "vision", "password": value}, "ns/s")
    assert read_interpolated(ml) == {"mlflow_tracking_username": "vision", "mlflow_tracking_password": value}


@pytest.mark.parametrize("value", ["a\nb", "a\rb", " Kq1", "Zq9 ", "", "tab\t", "naïve", "line\n[default]\naws_access_key_id = x"])
def test_a_value_configparser_would_change_is_refused_naming_the_key_not_the_value(value):
    with pytest.raises(SystemExit) as e:
        B.ini_file(AWS_FILE["credentials"], {"accessKeyId": "AKIA", "secretAccessKey": value}, "vision/ml-store")
    assert "vision/ml-store key secretAccessKey cannot be written into an INI credentials file" in str(e.value)
    if value.strip():
        assert value not in str(e.value)


def test_a_file_naming_a_missing_key_stops():
    with pytest.raises(SystemExit, match="vision/ml-store: its file needs key secretAccessKey"):
        B.ini_file(AWS_FILE["credentials"], {"accessKeyId": "AKIA"}, "vision/ml-store")


def test_a_generated_secret_gets_its_file_and_a_kept_one_lacking_it_is_completed_with_its_label(k8s, capsys):
    plan = {"generate": [{"namespace": "vision", "name": "ml-store", "keys": {"accessKeyId": {"randomBytes": 10}, "secretAccessKey": {"randomBytes": 20}},
                          "files": AWS_FILE, "replaceWhenDifferent": True}]}
    api = k8s(plan)
    B.generate()
    first = api.data("vision/ml-store")
    assert read_raw(first["credentials"]) == {"aws_access_key_id": first["accessKeyId"], "aws_secret_access_key": first["secretAccessKey"]}
    # An older version's Secret: keys kept, file added, still labelled generated (so it is not replaced next time).
    api.secrets["vision/ml-store"]["data"].pop("credentials")
    B.generate()
    again = api.data("vision/ml-store")
    assert again == first
    assert api.secrets["vision/ml-store"]["metadata"]["labels"][B.GENERATED] == "true"
    assert "kept (files written) vision/ml-store" in capsys.readouterr().out
    writes = len(api.writes())
    B.generate()
    assert len(api.writes()) == writes  # nothing to write when the file fits


def test_a_composed_secret_gets_its_file(k8s):
    api = k8s({"compose": [{"namespace": "t", "name": "ml-store", "keys": {"accessKeyId": "{{secret:p/keys:id}}", "secretAccessKey": "{{secret:p/keys:secret}}"}, "files": AWS_FILE}]},
              {"p/keys": {"id": "AKIAT", "secret": "s%e=c"}})
    B.compose()
    assert read_raw(api.data("t/ml-store")["credentials"]) == {"aws_access_key_id": "AKIAT", "aws_secret_access_key": "s%e=c"}


def test_a_user_s_secret_gets_its_mlflow_file_and_an_old_one_is_completed_with_the_same_password(mlflow):
    api, calls, answers = mlflow({"vision/mlflow": {"username": "vision", "password": "old%pw"}})
    B.PLAN["mlflowUsers"]["users"][0]["files"] = MLFLOW_FILE
    answers["vision"] = [(400, {"error_code": "RESOURCE_ALREADY_EXISTS"})]
    B.users()
    stored = api.data("vision/mlflow")
    assert stored["password"] == "old%pw"
    assert read_interpolated(stored["credentials"]) == {"mlflow_tracking_username": "vision", "mlflow_tracking_password": "old%pw"}
    assert [c[1] for c in calls] == ["/api/2.0/mlflow/users/create"]  # no password reset
