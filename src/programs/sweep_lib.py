"""mlplatform sweep library: configuration, study storage, samplers, pruners, search space,
metric lines and the MLflow REST client. Imported by sweep.py; needs Optuna, SQLAlchemy and
psycopg2 (Optuna's RDB storage), nothing else beyond the standard library."""
import base64, copy, hashlib, json, math, os, re, sys, threading, time, urllib.error, urllib.parse, urllib.request

CONFIG_PATH = os.environ.get("SWEEP_CONFIG", "/etc/sweep/config.json")
SWEEP_DIR = os.environ.get("SWEEP_DIR", "/sweep")
EXIT_STOP_JOB = 3  # the sweep cannot go on: the Job's podFailurePolicy fails the Job on this code
PEER_TIMEOUT = int(os.environ.get("SWEEP_PEER_TIMEOUT", "120"))  # seconds a silent peer container is trusted


def log(*args):
    print("[sweep]", *args, flush=True)


def die(message, code=EXIT_STOP_JOB):
    log("error:", message)
    sys.exit(code)


def credential(name):
    """A credential: the file `<name>_FILE` names (how mlplatform passes credentials: mounted Secret
    files, the path in the environment, never the value), else the variable itself (a user's own
    SWEEP_STORAGE_URL, a test). None when neither is set. The file's bytes are the value, as an env var
    from the same Secret key would be."""
    path = os.environ.get(name + "_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            die("cannot read %s from %s (%s): is the Secret mounted?" % (name, path, e.strerror))
    return os.environ.get(name)


def load_config():
    with open(CONFIG_PATH, "rb") as f:
        raw = f.read()
    cfg = json.loads(raw)
    if cfg.get("version") != 1:
        die("config.json has version %r; this program reads version 1" % cfg.get("version"))
    cfg["hash"] = hashlib.sha256(raw).hexdigest()[:16]
    return cfg


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def read_int(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else None


class Liveness:
    """Tracks a counter file another container rewrites every second."""

    def __init__(self, path):
        self.path, self.last, self.since = path, None, time.time()

    def stale(self, limit):
        try:
            with open(self.path) as f:
                value = f.read()
        except OSError:
            value = None
        if value != self.last:
            self.last, self.since = value, time.time()
        return time.time() - self.since > limit


def touch_alive(name, stop):
    """Writes a counter to SWEEP_DIR/<name> every second, so the other container sees this one live."""
    path = os.path.join(SWEEP_DIR, name)

    def beat():
        n = 0
        while not stop.is_set():
            n += 1
            try:
                write_atomic(path, "%d\n" % n)
            except OSError:
                pass
            stop.wait(1)

    t = threading.Thread(target=beat, daemon=True)
    t.start()
    return t


# ---------------------------------------------------------------------------------------------
# Storage: PostgreSQL through Optuna's RDBStorage, one connection per process, its own schema.

# Server connections each worker process holds at most (src/core/sweep/connections.ts counts them at synth
# time against the server's max_connections): the storage's pool of exactly one, shared by the main
# thread, the trial heartbeat thread and the study lock. The study-creation Job has no pool: Optuna's
# RDBStorage, when it creates the tables, opens a session while it holds another connection
# (optuna/storages/_rdb/storage.py, _VersionManager._init_alembic), so it briefly holds two.
CONNECTIONS_PER_PROCESS = 1
POOL_TIMEOUT = 60  # seconds a thread waits for the process's connection before the call fails


def storage_url():
    url = credential("SWEEP_STORAGE_URL")
    if url:
        for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg2://" + url[len(prefix):]
        die("SWEEP_STORAGE_URL must be a PostgreSQL URL (postgresql+psycopg2://user:password@host:5432/db)")
    q = lambda s: urllib.parse.quote(s, safe="")
    env = {k: credential(k) for k in ("SWEEP_DB_USER", "SWEEP_DB_PASSWORD", "SWEEP_DB_NAME")}
    env.update((k, v) for k, v in os.environ.items() if k in ("SWEEP_DB_HOST", "SWEEP_DB_PORT", "SWEEP_DB_SSLMODE"))
    missing = [k for k in ("SWEEP_DB_HOST", "SWEEP_DB_USER", "SWEEP_DB_PASSWORD", "SWEEP_DB_NAME") if not env.get(k)]
    if missing:
        die("missing environment: " + ", ".join(missing) + " (or their *_FILE)")
    host = env["SWEEP_DB_HOST"]
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "postgresql+psycopg2://%s:%s@%s:%s/%s?sslmode=%s" % (
        q(env["SWEEP_DB_USER"]), q(env["SWEEP_DB_PASSWORD"]), host, env.get("SWEEP_DB_PORT", "5432"),
        q(env["SWEEP_DB_NAME"]), q(env.get("SWEEP_DB_SSLMODE", "require")))


def schema():
    s = os.environ.get("SWEEP_DB_SCHEMA", "")
    if s and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", s):
        die("SWEEP_DB_SCHEMA %r is not a plain lowercase identifier" % s)
    return s


def engine_kwargs(with_schema=True, pooled=True):
    # One pooled connection per process (pool_size 1, no overflow): opened once and reused by every
    # storage call, the heartbeat thread and the study lock, so N workers hold at most N connections
    # (without a pool, a trial opened ~42: one per storage call). A thread waits up to POOL_TIMEOUT
    # for it. pool_pre_ping replaces a connection the server dropped (a restart) before it is used.
    # TCP keepalives let the server notice a vanished worker and drop its advisory lock.
    args = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
            "keepalives_count": 3, "application_name": "mlplatform-sweep"}
    if with_schema and schema():
        args["options"] = "-c search_path=" + schema()
    from sqlalchemy.pool import NullPool, QueuePool
    if not pooled:
        return {"poolclass": NullPool, "connect_args": args}
    return {"poolclass": QueuePool, "pool_size": CONNECTIONS_PER_PROCESS, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT,
            "pool_pre_ping": True, "connect_args": args}


def stale_callback_kwarg(RDBStorage):
    """Optuna 4.9 renamed RDBStorage's `failed_trial_callback` to `heartbeat_stale_trial_callback`
    (optuna/storages/_rdb/storage.py: the old name warns and goes in 6.0); 3.x knows only the old one."""
    import inspect
    params = inspect.signature(RDBStorage.__init__).parameters
    return "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in params else "failed_trial_callback"


def stale_callback(storage):
    getter = getattr(storage, "get_heartbeat_stale_trial_callback", None) or storage.get_failed_trial_callback
    return getter()


def make_storage(cfg, create=False):
    """The study's RDBStorage. Only the creation Job creates tables (optuna#1092); workers never do."""
    from optuna.storages import RDBStorage, RetryFailedTrialCallback
    hb = cfg["heartbeat"]
    callback = {stale_callback_kwarg(RDBStorage): RetryFailedTrialCallback(max_retry=cfg["budget"]["retries"])}
    return RDBStorage(
        storage_url(), engine_kwargs=engine_kwargs(pooled=not create),
        skip_compatibility_check=not create, skip_table_creation=not create,
        heartbeat_interval=hb["intervalSeconds"], grace_period=hb["gracePeriodSeconds"], **callback)


def create_schema():
    import sqlalchemy
    s = schema()
    if not s:
        return
    engine = sqlalchemy.create_engine(storage_url(), **engine_kwargs(with_schema=False, pooled=False))
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text('CREATE SCHEMA IF NOT EXISTS "%s"' % s))
    engine.dispose()


# Running trials of a study with the age of their heartbeat, measured by the server: clock_timestamp()
# is read after the statement's snapshot, so every heartbeat it sees is at most that old (never negative).
STALE_SQL = ("SELECT t.trial_id, EXTRACT(EPOCH FROM (clock_timestamp()::timestamp - h.heartbeat)) "
             "FROM trials t JOIN trial_heartbeats h ON h.trial_id = t.trial_id "
             "WHERE t.study_id = :study AND t.state = 'RUNNING' ORDER BY t.trial_id")


def stale_trial_ids(rows, grace):
    """The trials whose heartbeat is older than `grace` seconds. The age is signed: Optuna 3.1 compared
    `(now - heartbeat).seconds` (optuna/storages/_rdb/storage.py, _get_stale_trial_ids), and
    timedelta.seconds of a negative delta is 86399-ish, so a heartbeat newer than the checker's
    transaction start failed a live trial. Optuna 4.9 compares the timedeltas themselves."""
    return [trial_id for trial_id, age in rows if age is not None and float(age) > grace]


def fail_stale_trials(study, storage, engine, grace):
    """optuna.storages.fail_stale_trials (optuna/storages/_heartbeat.py) with the age measured as
    above: fail each stale trial unless another worker did first, then queue its retry."""
    import optuna, sqlalchemy
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text(STALE_SQL), {"study": study._study_id}).fetchall()
    failed = []
    for trial_id in stale_trial_ids(rows, grace):
        try:
            if storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL):
                failed.append(trial_id)
        except RuntimeError:  # UpdateFinishedTrialError (a RuntimeError): finished or failed meanwhile
            pass
    callback = stale_callback(storage)
    for trial_id in failed:
        log("trial %d failed as lost: no heartbeat for over %ds; its retry is queued" % (storage.get_trial(trial_id).number, grace))
        if callback:
            callback(study, copy.deepcopy(storage.get_trial(trial_id)))
    return failed


class StudyLock:
    """A PostgreSQL session-level advisory lock per study, taken on the process's one pooled connection
    (the storage's engine): asking for a trial and counting trials happen under it, so N workers never
    start more trials than the budget, and grid points are never handed out twice. Session level,
    because the storage calls under it commit on that same connection (a transaction-level lock
    would end with their first commit); a worker that vanishes loses its session and so the lock."""

    def __init__(self, study_name, engine):
        import sqlalchemy
        self.sqlalchemy, self.engine = sqlalchemy, engine
        digest = hashlib.sha256(("mlplatform-sweep:%s:%s" % (schema(), study_name)).encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)

    def _run(self, sql):
        with self.engine.connect() as conn, conn.begin():  # SQLAlchemy 1.4 and 2.x alike
            return conn.execute(self.sqlalchemy.text(sql), {"k": self.key}).scalar()

    def __enter__(self):
        self._run("SELECT pg_advisory_lock(:k)")
        return self

    def __exit__(self, *exc):
        try:
            if self._run("SELECT pg_advisory_unlock(:k)") is False:
                log("warning: the study lock was lost with its connection (the server ended that session)")
        except Exception as e:  # the connection is gone: so is its session, and the lock with it
            if exc[0] is None:
                raise
            log("warning: could not release the study lock: %s" % str(e).splitlines()[0][:200])


# ---------------------------------------------------------------------------------------------
# Samplers, pruners, search space.

def constraints_func(cfg):
    cons = cfg["constraints"]

    def f(trial):
        out = []
        for c in cons:
            v = trial.user_attrs.get("metric:" + c["metric"])
            missing = not isinstance(v, (int, float)) or not math.isfinite(v)
            if "max" in c:
                out.append(1e18 if missing else float(v) - c["max"])
            if "min" in c:
                out.append(1e18 if missing else c["min"] - float(v))
        return out
    return f


def grid_values(p):
    if p["type"] == "categorical":
        return list(p["choices"])
    step = p.get("step") or 1
    n = int(round((p["high"] - p["low"]) / step)) + 1
    if p["type"] == "int":
        return [p["low"] + i * step for i in range(n)]
    return [min(max(float("%.12g" % (p["low"] + i * step)), p["low"]), p["high"]) for i in range(n)]


def make_sampler(cfg, worker, salt):
    import optuna.samplers as S
    s = cfg["sampler"]
    kind, kw, seed = s["kind"], dict(s.get("settings") or {}), s.get("seed")
    if seed is not None and kind != "qmc":  # QMC workers share one sequence; the others get their own stream
        seed = (seed + 7919 * worker + 104729 * salt) % (2 ** 31)
    if cfg["constraints"] and kind in ("tpe", "nsga2"):
        kw["constraints_func"] = constraints_func(cfg)
    if kind == "tpe":
        return S.TPESampler(seed=seed, **kw)
    if kind == "random":
        return S.RandomSampler(seed=seed)
    if kind == "grid":
        return S.GridSampler({p["name"]: grid_values(p) for p in cfg["parameters"]}, seed=seed)
    if kind == "cmaes":
        return S.CmaEsSampler(seed=seed, **kw)
    if kind == "nsga2":
        return S.NSGAIISampler(seed=seed, **kw)
    if kind == "qmc":
        return S.QMCSampler(seed=seed, **kw)
    die("unknown sampler %r" % kind)


def make_pruner(cfg):
    import optuna.pruners as P
    p = cfg["pruner"]
    kind, kw = p["kind"], dict(p.get("settings") or {})
    return {"none": lambda: P.NopPruner(), "median": lambda: P.MedianPruner(**kw),
            "percentile": lambda: P.PercentilePruner(**kw),
            "successive-halving": lambda: P.SuccessiveHalvingPruner(**kw),
            "hyperband": lambda: P.HyperbandPruner(**kw),
            "threshold": lambda: P.ThresholdPruner(**kw)}[kind]()


def same(a, b):
    return type(a) is type(b) and a == b


def suggest(trial, parameters):
    """Define-by-run: a conditional parameter is suggested only when its parent has a listed value."""
    values = {}
    for p in parameters:
        w = p.get("when")
        if w is not None:
            parent = w["parameter"]
            if parent not in values or not any(same(values[parent], v) for v in w["values"]):
                continue
        name = p["name"]
        if p["type"] == "int":
            values[name] = trial.suggest_int(name, p["low"], p["high"], step=p.get("step", 1), log=p.get("log", False))
        elif p["type"] == "float":
            values[name] = trial.suggest_float(name, p["low"], p["high"], step=p.get("step"), log=p.get("log", False))
        else:
            values[name] = trial.suggest_categorical(name, p["choices"])
    return values


# ---------------------------------------------------------------------------------------------
# Metrics: "name=value" tokens on output lines; a "step=N" token gives the step.

TOKEN = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-/]*)=([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)$")
SEPARATORS = re.compile(r"[\s,;]+")


def parse_metrics(line, names):
    """Returns ({metric: value}, step or None) for the declared metric names found on the line."""
    found, step = {}, None
    for tok in SEPARATORS.split(line.strip()):
        m = TOKEN.match(tok)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        if key == "step":
            if re.fullmatch(r"[0-9]+", value):
                step = int(value)
        elif key in names:
            v = float(value)
            if math.isfinite(v):
                found[key] = v
    return found, step


def fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


# ---------------------------------------------------------------------------------------------
# MLflow, through its REST API (no mlflow package needed).

class Mlflow:
    def __init__(self, cfg):
        self.uri = os.environ.get("MLFLOW_TRACKING_URI", "").rstrip("/")
        self.experiment = (cfg.get("tracking") or {}).get("experiment")
        self.enabled = bool(self.uri and self.experiment)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        user, password = credential("MLFLOW_TRACKING_USERNAME"), credential("MLFLOW_TRACKING_PASSWORD")
        if user and password:
            self.headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        elif os.environ.get("MLFLOW_TRACKING_TOKEN"):
            self.headers["Authorization"] = "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]

    def call(self, method, path, body=None, query=None, tries=4):
        url = self.uri + "/api/2.0/mlflow/" + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(tries):
            req = urllib.request.Request(url, data=data, method=method, headers=self.headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return json.loads(r.read() or b"{}")
            except urllib.error.HTTPError as e:
                payload = e.read()
                try:
                    err = json.loads(payload or b"{}")
                except ValueError:
                    err = {"message": payload.decode("utf-8", "replace")[:200]}
                if e.code < 500 and e.code != 429:
                    raise MlflowError(e.code, err.get("error_code", ""), err.get("message", ""))
            except (urllib.error.URLError, OSError) as e:
                err = {"message": str(e)}
            if attempt + 1 < tries:
                time.sleep(min(2 ** attempt, 10))
        raise MlflowError(0, "UNAVAILABLE", "%s %s: %s" % (method, path, err.get("message")))

    def experiment_id(self):
        for _ in range(2):
            try:
                return self.call("GET", "experiments/get-by-name", query={"experiment_name": self.experiment})["experiment"]["experiment_id"]
            except MlflowError as e:
                if e.code != "RESOURCE_DOES_NOT_EXIST":
                    raise
            try:
                return self.call("POST", "experiments/create", {"name": self.experiment})["experiment_id"]
            except MlflowError as e:
                if e.code != "RESOURCE_ALREADY_EXISTS":
                    raise
        raise MlflowError(0, "UNAVAILABLE", "experiment %r could not be created" % self.experiment)

    def create_run(self, experiment_id, name, tags):
        body = {"experiment_id": experiment_id, "run_name": name, "start_time": int(time.time() * 1000),
                "tags": [{"key": k, "value": str(v)} for k, v in tags.items()]}
        return self.call("POST", "runs/create", body)["run"]["info"]["run_id"]

    def log_batch(self, run_id, metrics=(), params=(), tags=()):
        metrics, params, tags = list(metrics), list(params), list(tags)
        while metrics or params or tags:
            p, params = params[:100], params[100:]
            t, tags = tags[:100], tags[100:]
            m, metrics = metrics[:1000 - len(p) - len(t)], metrics[1000 - len(p) - len(t):]
            self.call("POST", "runs/log-batch", {"run_id": run_id, "metrics": m, "params": p, "tags": t})

    def finish(self, run_id, status):
        self.call("POST", "runs/update", {"run_id": run_id, "status": status, "end_time": int(time.time() * 1000)})


class MlflowError(Exception):
    def __init__(self, status, code, message):
        super().__init__("MLflow %s %s: %s" % (status or "", code, message))
        self.status, self.code = status, code


def metric(key, value, step):
    return {"key": key, "value": float(value), "timestamp": int(time.time() * 1000), "step": int(step)}
