"""sweep_lib's study storage and its lock: the PostgreSQL URL built from the environment, the schema, the
engine options (one pooled connection, keepalives, search_path), the stale-trial check, the per-study advisory lock, and the config and
liveness files the two containers of a worker pod share."""
import hashlib
import json
import os
import threading
from types import SimpleNamespace

import pytest

import sweep_lib as L

DB_ENV = {"SWEEP_DB_HOST": "db.example", "SWEEP_DB_USER": "team", "SWEEP_DB_PASSWORD": "pw", "SWEEP_DB_NAME": "studies"}


@pytest.fixture
def db_env(monkeypatch):
    for key in ("SWEEP_STORAGE_URL", "SWEEP_DB_PORT", "SWEEP_DB_SSLMODE", "SWEEP_DB_SCHEMA", *DB_ENV):
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(key + "_FILE", raising=False)
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


def test_credentials_from_mounted_files_the_file_wins_over_the_variable(db_env, tmp_path):
    # What the synthesized pods pass (src/cdk8s/private/pod.ts credentialFiles): the path in *_FILE, the
    # value only in the file, byte for byte (no newline stripped: an env var from the same key has none).
    for key, value in (("SWEEP_DB_USER", "tenant_a"), ("SWEEP_DB_PASSWORD", "p@ss/w:rd"), ("SWEEP_DB_NAME", "mlplatform_a")):
        (tmp_path / key).write_text(value)
        db_env.setenv(key + "_FILE", str(tmp_path / key))
        db_env.delenv(key)
    assert L.storage_url() == "postgresql+psycopg2://tenant_a:p%40ss%2Fw%3Ard@db.example:5432/mlplatform_a?sslmode=require"
    db_env.setenv("SWEEP_DB_PASSWORD", "from-env")
    assert ":p%40ss%2Fw%3Ard@" in L.storage_url()


def test_a_storage_url_from_a_file(db_env, tmp_path):
    (tmp_path / "url").write_text("postgresql://u:p@h:5432/d")
    db_env.setenv("SWEEP_STORAGE_URL_FILE", str(tmp_path / "url"))
    assert L.storage_url() == "postgresql+psycopg2://u:p@h:5432/d"


def test_an_unreadable_credential_file_stops_the_job_naming_it(db_env, tmp_path, capsys):
    db_env.setenv("SWEEP_DB_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(SystemExit) as e:
        L.storage_url()
    assert e.value.code == L.EXIT_STOP_JOB
    assert "cannot read SWEEP_DB_PASSWORD from %s (No such file or directory): is the Secret mounted?" % (tmp_path / "absent") in capsys.readouterr().out


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


def test_engine_options_one_pooled_connection_keepalives_and_the_search_path(db_env):
    from sqlalchemy.pool import QueuePool
    db_env.setenv("SWEEP_DB_SCHEMA", "optuna_vision")
    kw = L.engine_kwargs()
    assert {k: v for k, v in kw.items() if k != "connect_args"} == {
        "poolclass": QueuePool, "pool_size": 1, "max_overflow": 0, "pool_timeout": 60, "pool_pre_ping": True}
    assert kw["connect_args"] == {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                                  "keepalives_count": 3, "application_name": "mlplatform-sweep", "options": "-c search_path=optuna_vision"}
    assert "options" not in L.engine_kwargs(with_schema=False)["connect_args"]
    db_env.setenv("SWEEP_DB_SCHEMA", "")
    assert "options" not in L.engine_kwargs()["connect_args"]


def test_the_study_creation_has_no_pool(db_env):
    # Optuna holds a connection while it opens a session when it creates the tables
    # (optuna/storages/_rdb/storage.py, _VersionManager._init_alembic): a pool of one would wait forever.
    from sqlalchemy.pool import NullPool
    assert L.engine_kwargs(pooled=False)["poolclass"] is NullPool


def test_the_engine_holds_at_most_one_connection_however_many_threads_ask(db_env):
    """SQLAlchemy's own pool with these options (on a DBAPI stand-in): a second checkout waits for the
    process's connection instead of opening another one."""
    import sqlalchemy
    opened = []

    class Conn:
        def rollback(self):
            pass

        def close(self):
            pass

    kw = L.engine_kwargs()
    pool = kw["poolclass"](lambda: opened.append(1) or Conn(), pool_size=kw["pool_size"], max_overflow=kw["max_overflow"], timeout=0.2)
    first = pool.connect()
    with pytest.raises(sqlalchemy.exc.TimeoutError):
        pool.connect()  # waits for the first, then times out: no second connection
    first.close()
    pool.connect().close()
    assert len(opened) == 1


def test_the_callback_keyword_follows_the_optuna_release():
    from optuna.storages import RDBStorage
    import optuna
    major = int(optuna.__version__.split(".")[0])
    assert L.stale_callback_kwarg(RDBStorage) == ("heartbeat_stale_trial_callback" if major >= 4 and "heartbeat_stale_trial_callback" in RDBStorage.__init__.__code__.co_varnames else "failed_trial_callback")

    class New:
        def __init__(self, url, heartbeat_stale_trial_callback=None, failed_trial_callback=None):
            pass

    class Old:
        def __init__(self, url, failed_trial_callback=None):
            pass
    assert L.stale_callback_kwarg(New) == "heartbeat_stale_trial_callback"
    assert L.stale_callback_kwarg(Old) == "failed_trial_callback"


# ---------------------------------------------------------------------------------------------
# Stale trials

def test_a_heartbeat_newer_than_the_check_is_not_stale():
    from datetime import timedelta
    # Optuna 3.1's comparison, `(now - heartbeat).seconds > grace`, on a heartbeat 35 ms newer than the
    # checker's transaction start: timedelta.seconds of a negative delta wraps to a day minus a bit.
    assert timedelta(milliseconds=-35).seconds == 86399
    # Ours compares the signed age.
    assert L.stale_trial_ids([(1, -0.035), (2, 4.0), (3, 4.001), (4, 3600.0), (5, None)], grace=4) == [3, 4]


def test_the_age_is_measured_by_the_server_after_its_snapshot():
    assert "clock_timestamp()" in L.STALE_SQL and "now()" not in L.STALE_SQL.lower()
    assert "t.state = 'RUNNING'" in L.STALE_SQL and "t.study_id = :study" in L.STALE_SQL


class StaleStorage:
    def __init__(self, finished_meanwhile=()):
        self.log, self.finished_meanwhile = [], set(finished_meanwhile)
        self.callback = lambda study, trial: self.log.append(("retry", trial.number))

    def set_trial_state_values(self, trial_id, state):
        if trial_id in self.finished_meanwhile:  # 4.x raises UpdateFinishedTrialError, a RuntimeError; 3.x RuntimeError
            raise RuntimeError("Trial#%d has already finished and can not be updated." % trial_id)
        self.log.append(("fail", trial_id, state.name))
        return True

    def get_trial(self, trial_id):
        from types import SimpleNamespace
        return SimpleNamespace(number=trial_id - 100)

    def get_heartbeat_stale_trial_callback(self):
        return self.callback


class RowsEngine:
    def __init__(self, rows):
        self.rows, self.params = rows, None

    def connect(self):
        engine = self

        class C:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                pass

            def execute(self, statement, params):
                engine.params = params
                return SimpleRows(engine.rows)
        return C()


class SimpleRows:
    def __init__(self, rows):
        self.rows = rows

    def fetchall(self):
        return self.rows


def test_fail_stale_trials_fails_only_old_heartbeats_skips_trials_finished_meanwhile_and_queues_retries(capsys):
    from types import SimpleNamespace
    storage = StaleStorage(finished_meanwhile=[103])
    engine = RowsEngine([(101, -0.035), (102, 9.5), (103, 12.0)])
    study = SimpleNamespace(_study_id=7)
    assert L.fail_stale_trials(study, storage, engine, grace=4) == [102]
    assert engine.params == {"study": 7}
    assert storage.log == [("fail", 102, "FAIL"), ("retry", 2)]
    assert "trial 2 failed as lost: no heartbeat for over 4s" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# The study lock

class FakeConnection:
    def __init__(self, log, result):
        self.log, self.result = log, result

    def __enter__(self):
        self.log.append("connect")
        return self

    def __exit__(self, *exc):
        self.log.append("close")

    def begin(self):
        log = self.log

        class Tx:
            def __enter__(self):
                log.append("begin")

            def __exit__(self, *exc):
                log.append("commit" if exc[0] is None else "rollback")
        return Tx()

    def execute(self, statement, params):
        self.log.append((str(statement), params))
        if isinstance(self.result, Exception):
            raise self.result
        return SimpleNamespace(scalar=lambda: self.result)


class FakeEngine:
    def __init__(self, unlock=True):
        self.log, self.unlock = [], unlock

    def connect(self):
        return FakeConnection(self.log, self.unlock if len(self.log) else None)


@pytest.mark.parametrize("schema, study, key", [
    # Pinned: workers of different releases of this program must take the same lock for a study.
    ("optuna_vision", "resnet-sweep", -6443016423879376296),
    ("", "resnet-sweep", -6789068519836323913),
    ("optuna_vision", "other", 3853987315049078123),
])
def test_the_lock_key_is_a_signed_64_bit_digest_of_schema_and_study(db_env, schema, study, key):
    db_env.setenv("SWEEP_DB_SCHEMA", schema)
    assert L.StudyLock(study, FakeEngine()).key == key


def test_the_lock_is_a_session_level_advisory_lock_on_the_process_s_connection(db_env):
    engine = FakeEngine()
    lock = L.StudyLock("resnet-sweep", engine)
    with lock:
        engine.log.append("inside")
    k = {"k": lock.key}
    assert engine.log == ["connect", "begin", ("SELECT pg_advisory_lock(:k)", k), "commit", "close", "inside",
                          "connect", "begin", ("SELECT pg_advisory_unlock(:k)", k), "commit", "close"]


def test_the_lock_is_released_when_the_block_raises(db_env):
    engine = FakeEngine()
    lock = L.StudyLock("resnet-sweep", engine)
    with pytest.raises(ValueError):
        with lock:
            raise ValueError("asking failed")
    assert engine.log[-4:] == ["begin", ("SELECT pg_advisory_unlock(:k)", {"k": lock.key}), "commit", "close"]


def test_a_lock_lost_with_its_session_is_a_warning(db_env, capsys):
    engine = FakeEngine(unlock=False)
    with L.StudyLock("resnet-sweep", engine):
        pass
    assert "warning: the study lock was lost with its connection" in capsys.readouterr().out


def test_a_failing_unlock_raises_unless_the_block_already_raised(db_env, capsys):
    engine = FakeEngine(unlock=RuntimeError("server closed the connection"))
    with pytest.raises(RuntimeError, match="server closed"):
        with L.StudyLock("resnet-sweep", engine):
            pass
    engine = FakeEngine(unlock=RuntimeError("server closed the connection"))
    with pytest.raises(ValueError):
        with L.StudyLock("resnet-sweep", engine):
            raise ValueError("asking failed")
    assert "warning: could not release the study lock: server closed the connection" in capsys.readouterr().out


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
