"""mlplatform's MLflow authorization function for OIDC mode, named by basic_auth.ini's
`authorization_function = mlflow_oidc_auth:authenticate_request` (MLflow imports it from PYTHONPATH,
mlflow/server/auth/__init__.py get_auth_func). MLflow runs its basic-auth app in both modes, so its API
is never open without a login:

- people come through OAuth2 Proxy (the sidecar on the UI port). The proxy sends each request upstream
  with `Authorization: Basic <e-mail>:<proxy password>` (`--pass-basic-auth`, `--basic-auth-password`)
  and the person's groups in `X-Forwarded-Groups` (`--pass-user-headers`), after stripping any such
  header the client sent (`--skip-auth-strip-headers`). The proxy password is a generated Secret only
  the tracking pod holds. A request carrying it acts as the MLflow user its groups map to: the admin
  for an admin group, else the tenant's own MLflow user for the first tenant (in declaration order)
  whose admin or editor group it carries; with none, 403;
- everything else (tenant pods with their tenant's MLflow user, the bootstrap with the admin) goes
  through MLflow's own basic auth.

The configuration lives in files the pod mounts (MLFLOW_OIDC_DIR, default /etc/mlflow-oidc):
`mapping.json` ({"adminGroups": [...], "tenants": [{"username": ..., "groups": [...]}]}),
`proxy-password` and `admin-username`."""
import hmac
import json
import os

CONFIG_DIR = os.environ.get("MLFLOW_OIDC_DIR", "/etc/mlflow-oidc")
# Below this length the proxy password is treated as absent: an empty or short one must never match.
MIN_PASSWORD_LENGTH = 16


def read_text(name, directory=None):
    with open(os.path.join(directory or CONFIG_DIR, name), encoding="utf-8") as f:
        return f.read().strip()


def load_config(directory=None):
    mapping = json.loads(read_text("mapping.json", directory))
    return {
        "adminGroups": list(mapping.get("adminGroups", [])),
        "tenants": [{"username": t["username"], "groups": list(t["groups"])} for t in mapping.get("tenants", [])],
        "proxyPassword": read_text("proxy-password", directory),
        "adminUsername": read_text("admin-username", directory),
    }


def groups_of(header):
    """oauth2-proxy joins the groups claim with commas in X-Forwarded-Groups."""
    return [g.strip() for g in (header or "").split(",") if g.strip()]


def user_for(groups, config):
    """The MLflow user a person with `groups` acts as, or None."""
    if any(g in config["adminGroups"] for g in groups):
        return config["adminUsername"]
    for tenant in config["tenants"]:
        if any(g in tenant["groups"] for g in groups):
            return tenant["username"]
    return None


def from_proxy(password, config):
    expected = config["proxyPassword"]
    if len(expected) < MIN_PASSWORD_LENGTH or password is None:
        return False
    return hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8"))


_CONFIG = None


def authenticate_request():
    global _CONFIG
    from flask import Response, request
    from werkzeug.datastructures import Authorization
    from mlflow.server import auth as mlflow_auth

    if _CONFIG is None:
        _CONFIG = load_config()
    a = request.authorization
    if a is not None and a.type == "basic" and from_proxy(a.password, _CONFIG):
        user = user_for(groups_of(request.headers.get("X-Forwarded-Groups")), _CONFIG)
        if user is None:
            return Response("None of your groups is admitted to this tracking server.", 403)
        return Authorization("basic", {"username": user, "password": ""})
    return mlflow_auth.authenticate_request_basic_auth()
