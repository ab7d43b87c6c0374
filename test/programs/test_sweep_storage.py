"""sweep_lib's study storage and its lock: the PostgreSQL URL built from the environment, the schema, the
engine options (no pool, keepalives, search_path), the per-study advisory lock, and the config and
liveness files the two containers of a worker pod share."""
import hashlib
import json
import os
import threading

import pytest

import sweep_lib as L

DB_ENV = {"SWEEP_DB_HOST": "db.example", "SWEEP_DB_USER": "team", "SWEEP_DB_PASSWORD": "pw", "SWEEP_DB_NAME": "studies"}


@pytest.fixture
def db_env(monkeypatch):
    for key in ("SWEEP_STORAGE_URL", "SWEEP_DB_PORT", "SWEEP_DB_SSLMODE", "SWEEP_DB_SCHEMA", *DB_ENV):
        monkeypatch.delenv(key, raising=False)
    for key, value in DB_ENV.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def test_the_url_from_parts_has_defaults_for_port_and_sslmode(db_env):
    assert L.storage_url() == "postgresql+psycopg2://team:pw@db.example:5432/studies?sslmode=require"


def test_the_url_from_parts_percent_encodes_user_password_database_and_sslmode(db_env):
    db_env.setenv("SWEEP_DB_USER", "a@b")
    db_env.setenv("SWEEP_DB_PASSWORD", "p@ss/wo:rd?#%")
    db_env.setenv("SWEEP_DB_NAME", "my db")
    db_env.setenv("SWEEP_DB_PORT", "6432")
    db_env.setenv("SWEEP_DB_SSLMODE", "verify-full&x=1")
    assert L.storage_url() == "postgresql+psycopg2://a%40b:p%40ss%2Fwo%3Ard%3F%23%25@db.example:6432/my%20db?sslmode=verify-full%26x%3D1"


@pytest.mark.parametrize("host, shown", [("fd00::1", "[fd00::1]"), ("[fd00::1]", "[fd00::1]"), ("10.0.0.1", "10.0.0.1")])
def test_an_ipv6_host_is_bracketed(db_env, host, shown):
    db_env.setenv("SWEEP_DB_HOST", host)
    assert L.storage_url().startswith("postgresql+psycopg2://team:pw@%s:5432/" % shown)


def test_missing_parts_stop_the_job_naming_them(db_env, capsys):
    db_env.delenv("SWEEP_DB_HOST")
    db_env.setenv("SWEEP_DB_PASSWORD", "")
    with pytest.raises(SystemExit) as e:
        L.storage_url()
    assert e.value.code == L.EXIT_STOP_JOB
    assert "missing environment: SWEEP_DB_HOST, SWEEP_DB_PASSWORD" in capsys.readouterr().out


@pytest.mark.parametrize("url, expected", [
    ("postgresql://u:p@h:5432/d", "postgresql+psycopg2://u:p@h:5432/d"),
    ("postgres://u:p@h/d?sslmode=disable", "postgresql+psycopg2://u:p@h/d?sslmode=disable"),
    ("postgresql+psycopg2://u:p@h/d", "postgresql+psycopg2://u:p@h/d"),
])
def test_a_given_url_is_normalised_to_psycopg2(db_env, url, expected):
    db_env.setenv("SWEEP_STORAGE_URL", url)
    assert L.storage_url() == expected


@pytest.mark.parametrize("url", ["mysql://u:p@h/d", "sqlite:///studies.db", "postgresql+asyncpg://u:p@h/d"])
def test_a_given_url_must_be_postgresql(db_env, url, capsys):
    db_env.setenv("SWEEP_STORAGE_URL", url)
    with pytest.raises(SystemExit) as e:
        L.storage_url()
    assert e.value.code == L.EXIT_STOP_JOB
    assert "SWEEP_STORAGE_URL must be a PostgreSQL URL" in capsys.readouterr().out


@pytest.mark.parametrize("schema", ["", "optuna_vision", "_x", "a" * 63])
def test_a_schema_is_a_plain_lowercase_identifier(db_env, schema):
    db_env.setenv("SWEEP_DB_SCHEMA", schema)
    assert L.schema() == schema


@pytest.mark.parametrize("schema", ["Optuna", "1abc", "a-b", 'x"; DROP TABLE studies; --', "a" * 64, "a b"])
def test_any_other_schema_stops_the_job(db_env, schema):
    db_env.setenv("SWEEP_DB_SCHEMA", schema)
    with pytest.raises(SystemExit) as e:
        L.schema()
    assert e.value.code == L.EXIT_STOP_JOB


def test_engine_options_no_pool_keepalives_and_the_search_path(db_env):
    from sqlalchemy.pool import NullPool
    db_env.setenv("SWEEP_DB_SCHEMA", "optuna_vision")
    kw = L.engine_kwargs()
    assert kw["poolclass"] is NullPool
    assert kw["connect_args"] == {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                                  "keepalives_count": 3, "application_name": "mlplatform-sweep", "options": "-c search_path=optuna_vision"}
    assert "options" not in L.engine_kwargs(with_schema=False)["connect_args"]
    db_env.setenv("SWEEP_DB_SCHEMA", "")
    assert "options" not in L.engine_kwargs()["connect_args"]


# ---------------------------------------------------------------------------------------------
# The study lock

class FakeConnection:
    def __init__(self, log, fail_commit=False):
        self.log, self.fail_commit = log, fail_commit

    def begin(self):
        self.log.append("begin")
        return self

    def execute(self, statement, params):
        self.log.append((str(statement), params))

    def commit(self):
        self.log.append("commit")
        if self.fail_commit:
            raise RuntimeError("connection lost")

    def close(self):
        self.log.append("close")


class FakeEngine:
    def __init__(self, fail_commit=False):
        self.log, self.fail_commit = [], fail_commit

    def connect(self):
        self.log.append("connect")
        return FakeConnection(self.log, self.fail_commit)


@pytest.mark.parametrize("schema, study, key", [
    # Pinned: workers of different releases of this program must take the same lock for a study.
    ("optuna_vision", "resnet-sweep", -6443016423879376296),
    ("", "resnet-sweep", -6789068519836323913),
    ("optuna_vision", "other", 3853987315049078123),
])
def test_the_lock_key_is_a_signed_64_bit_digest_of_schema_and_study(db_env, schema, study, key):
    db_env.setenv("SWEEP_DB_SCHEMA", schema)
    assert L.StudyLock(study).key == key


def test_the_lock_is_a_transaction_level_advisory_lock_released_by_commit(db_env):
    lock = L.StudyLock("resnet-sweep")
    lock.engine = FakeEngine()
    with lock:
        lock.engine.log.append("inside")
    assert lock.engine.log == ["connect", "begin", ("SELECT pg_advisory_xact_lock(:k)", {"k": lock.key}), "inside", "commit", "close"]


def test_the_lock_is_released_when_the_block_raises_and_the_connection_closed_when_commit_fails(db_env):
    lock = L.StudyLock("resnet-sweep")
    lock.engine = FakeEngine()
    with pytest.raises(ValueError):
        with lock:
            raise ValueError("asking failed")
    assert lock.engine.log[-2:] == ["commit", "close"]
    lock.engine = FakeEngine(fail_commit=True)
    with pytest.raises(RuntimeError):
        with lock:
            pass
    assert lock.engine.log[-2:] == ["commit", "close"]


# ---------------------------------------------------------------------------------------------
# Files shared by the containers

def test_load_config_reads_version_1_and_hashes_the_exact_bytes(tmp_path, monkeypatch):
    raw = b'{"version": 1, "study": "s"}\n'
    (tmp_path / "config.json").write_bytes(raw)
    monkeypatch.setattr(L, "CONFIG_PATH", str(tmp_path / "config.json"))
    assert L.load_config() == {"version": 1, "study": "s", "hash": hashlib.sha256(raw).hexdigest()[:16]}


def test_load_config_refuses_another_version(tmp_path, monkeypatch, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"version": 2}))
    monkeypatch.setattr(L, "CONFIG_PATH", str(tmp_path / "config.json"))
    with pytest.raises(SystemExit) as e:
        L.load_config()
    assert e.value.code == L.EXIT_STOP_JOB
    assert "config.json has version 2; this program reads version 1" in capsys.readouterr().out


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = str(tmp_path / "done")
    L.write_atomic(path, "old\n")
    L.write_atomic(path, "done\n")
    assert os.listdir(tmp_path) == ["done"]
    assert open(path).read() == "done\n"


@pytest.mark.parametrize("text, value", [("7\n", 7), ("-1", -1), (" 143 \n", 143), ("", None), ("7x", None), ("1.0", None)])
def test_read_int(tmp_path, text, value):
    (tmp_path / "exit").write_text(text)
    assert L.read_int(str(tmp_path / "exit")) == value


def test_read_int_of_a_missing_file_is_none(tmp_path):
    assert L.read_int(str(tmp_path / "exit")) is None


def test_liveness_is_stale_only_after_the_counter_stopped_changing_for_the_limit(tmp_path, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(L.time, "time", lambda: now[0])
    path = tmp_path / "runner.alive"
    alive = L.Liveness(str(path))
    assert not alive.stale(120)  # a missing file starts the clock
    now[0] += 121
    assert alive.stale(120)
    path.write_text("1\n")
    assert not alive.stale(120)  # it changed: live again
    now[0] += 100
    assert not alive.stale(120)
    path.write_text("2\n")
    now[0] += 100
    assert not alive.stale(120)
    now[0] += 121
    assert alive.stale(120)


def test_touch_alive_writes_a_rising_counter_until_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(L, "SWEEP_DIR", str(tmp_path))
    stop = threading.Event()
    thread = L.touch_alive("driver.alive", stop)
    first = None
    for _ in range(100):
        first = L.read_int(str(tmp_path / "driver.alive"))
        if first:
            break
        stop.wait(0.01)
    assert first == 1
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
