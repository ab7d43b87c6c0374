"""MLflow's OIDC-mode authorization function (mlflow_oidc_auth.py): which MLflow user a person signed in
through OAuth2 Proxy acts as, and which requests count as coming from the proxy. The whole function runs
inside a real MLflow server in the cluster tier (test/cluster/services/tenancy.test.ts)."""
import json

import pytest

import mlflow_oidc_auth as A

CONFIG = {
    "adminGroups": ["ml-admins"],
    "tenants": [{"username": "vision", "groups": ["team-vision", "cv"]}, {"username": "nlp", "groups": ["team-nlp", "cv"]}],
    "proxyPassword": "p" * 32,
    "adminUsername": "admin",
}


@pytest.mark.parametrize("groups, user", [
    (["ml-admins"], "admin"),
    (["team-nlp", "ml-admins"], "admin"),          # an admin group wins
    (["team-vision"], "vision"),
    (["team-nlp"], "nlp"),
    (["cv"], "vision"),                            # in several tenants: the first declared
    (["other"], None),
    ([], None),
])
def test_groups_map_to_the_admin_or_the_first_tenant_that_admits_them(groups, user):
    assert A.user_for(groups, CONFIG) == user


@pytest.mark.parametrize("header, groups", [
    ("team-a,team-b", ["team-a", "team-b"]),
    (" team-a , ,team-b ", ["team-a", "team-b"]),
    ("", []),
    (None, []),
])
def test_the_groups_header_is_split_on_commas(header, groups):
    assert A.groups_of(header) == groups


@pytest.mark.parametrize("password, expected, ok", [
    ("p" * 32, "p" * 32, True),
    ("p" * 31, "p" * 32, False),
    ("", "p" * 32, False),
    (None, "p" * 32, False),
    ("", "", False),                 # an empty proxy password never matches
    ("short", "short", False),       # nor one too short to be generated
])
def test_only_the_generated_proxy_password_marks_a_request_as_the_proxy_s(password, expected, ok):
    assert A.from_proxy(password, dict(CONFIG, proxyPassword=expected)) is ok


def test_the_configuration_comes_from_the_mounted_files(tmp_path):
    (tmp_path / "mapping.json").write_text(json.dumps({"adminGroups": ["a"], "tenants": [{"username": "t", "groups": ["g"]}]}))
    (tmp_path / "proxy-password").write_text("x" * 48 + "\n")
    (tmp_path / "admin-username").write_text("root\n")
    assert A.load_config(str(tmp_path)) == {"adminGroups": ["a"], "tenants": [{"username": "t", "groups": ["g"]}], "proxyPassword": "x" * 48, "adminUsername": "root"}
