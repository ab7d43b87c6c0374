"""mlplatform sweep: "create" (the study-creation Job), "wait" (the workers' init container), "worker"
(the Optuna loop beside the trial container) and "dashboard". See docs/tuning-sweep.md."""
import json, os, signal, sys, threading, time
import sweep_lib as L


def quiet_optuna():
    import warnings, optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage")
    return optuna


def create(cfg):
    optuna = quiet_optuna()
    L.create_schema()
    storage = L.make_storage(cfg, create=True)
    directions = [o["direction"] for o in cfg["objectives"]]
    study = optuna.create_study(study_name=cfg["study"], storage=storage, directions=directions, load_if_exists=True)
    have = [d.name.lower() for d in study.directions]
    if have != directions:
        L.die("study %r already exists with directions %s, but this sweep declares %s; give the sweep a new studyName" % (cfg["study"], have, directions))
    attrs = study.user_attrs
    study.set_user_attr("mlplatform.sweep", {"name": cfg["sweep"], "namespace": cfg["namespace"], "sampler": cfg["sampler"], "pruner": cfg["pruner"], "budget": cfg["budget"]})
    study.set_user_attr("mlplatform.objectives", [o["metric"] for o in cfg["objectives"]])
    if hasattr(study, "set_metric_names"):
        study.set_metric_names([o["metric"] for o in cfg["objectives"]])
    deadline = cfg["budget"].get("deadlineSeconds")
    if deadline and "mlplatform.deadline" not in attrs:
        study.set_user_attr("mlplatform.deadline", time.time() + deadline)
    mlflow = L.Mlflow(cfg)
    if mlflow.enabled:
        try:
            experiment = mlflow.experiment_id()
            parent = attrs.get("mlplatform.mlflow_parent_run_id")
            if not parent:
                parent = mlflow.create_run(experiment, cfg["sweep"], {"mlplatform.sweep": cfg["sweep"], "optuna.study": cfg["study"], "optuna.directions": ",".join(directions)})
                mlflow.log_batch(parent, params=[{"key": k, "value": str(v)[:500]} for k, v in {
                    "sampler": cfg["sampler"]["kind"], "pruner": cfg["pruner"]["kind"], "trials": cfg["budget"]["trials"],
                    "workers": cfg["budget"]["workers"], "objectives": json.dumps(cfg["objectives"]),
                    "search_space": json.dumps([p["name"] for p in cfg["parameters"]])}.items()])
            study.set_user_attr("mlplatform.mlflow_experiment_id", experiment)
            study.set_user_attr("mlplatform.mlflow_parent_run_id", parent)
        except L.MlflowError as e:
            L.die("MLflow: %s (the Job retries)" % e, code=1)
    study.set_user_attr("mlplatform.config", cfg["hash"])
    L.log("study %r ready: %d trial(s) so far, config %s" % (cfg["study"], len(study.trials), cfg["hash"]))


def probe(sql, params):
    import sqlalchemy
    engine = sqlalchemy.create_engine(L.storage_url(), **L.engine_kwargs())
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(sql), params).fetchall()
    finally:
        engine.dispose()


def wait(cfg, what="study"):
    """Waits, read-only, until the creation Job has applied this configuration (or, for the
    dashboard, until the tables exist): workers never create tables or studies."""
    started, said = time.time(), 0
    while True:
        try:
            if what == "tables":
                probe("SELECT 1 FROM studies LIMIT 1", {})
                return
            rows = probe("SELECT a.value_json FROM study_user_attributes a JOIN studies s ON s.study_id = a.study_id "
                         "WHERE s.study_name = :s AND a.key = 'mlplatform.config'", {"s": cfg["study"]})
            if rows and json.loads(rows[0][0]) == cfg["hash"]:
                L.log("study %r is ready" % cfg["study"])
                return
            status = "the study has another configuration" if rows else "no study yet"
        except Exception as e:  # tables missing, database starting: keep waiting
            status = str(e).splitlines()[0][:200]
        if time.time() - said >= 30:
            L.log("waiting for the study-creation Job (%ds): %s" % (time.time() - started, status))
            said = time.time()
        time.sleep(2)


class Worker:
    def __init__(self, cfg):
        self.cfg, self.budget, self.terminating = cfg, cfg["budget"], False
        self.index = int(os.environ.get("SWEEP_WORKER_INDEX") or 0)
        self.name = os.environ.get("SWEEP_WORKER_NAME") or "worker-%d" % self.index
        L.touch_alive("driver.alive", threading.Event())  # before the slow imports: the runner sees us live
        signal.signal(signal.SIGTERM, self.on_term)
        self.optuna = optuna = quiet_optuna()
        self.S = optuna.trial.TrialState
        self.storage = L.make_storage(cfg)
        self.lock = L.StudyLock(cfg["study"], self.storage.engine)  # on the process's one connection
        self.study = optuna.load_study(study_name=cfg["study"], storage=self.storage, sampler=optuna.samplers.RandomSampler())
        self.study.sampler = L.make_sampler(cfg, self.index, len(self.study.get_trials(deepcopy=False)))
        self.study.pruner = L.make_pruner(cfg)
        attrs = self.study.user_attrs
        self.deadline = attrs.get("mlplatform.deadline")
        self.mlflow = L.Mlflow(cfg)
        self.experiment, self.parent = attrs.get("mlplatform.mlflow_experiment_id"), attrs.get("mlplatform.mlflow_parent_run_id")
        self.names = [o["metric"] for o in cfg["objectives"]] + [c["metric"] for c in cfg["constraints"]]
        self.strategy = {c["metric"]: c["strategy"] for c in cfg["constraints"]}
        self.strategy.update({o["metric"]: o["strategy"] for o in cfg["objectives"]})

    def on_term(self, *_):
        self.terminating = True

    def safe(self, what, fn, *args):
        if not (self.mlflow.enabled and self.experiment):
            return None
        try:
            return fn(*args)
        except Exception as e:  # tracking is best effort: a tracking outage never fails a trial
            L.log("warning: MLflow %s failed: %s" % (what, e))
            return None

    def gate(self):
        """Under the study lock: fail trials of lost workers (their retries are queued), then start
        a trial only if finished + running trials stay within the budget."""
        S = self.S
        with self.lock:
            self.fail_stale()
            trials = self.study.get_trials(deepcopy=False)
            count = lambda *states: sum(1 for t in trials if t.state in states)
            finished, running, waiting = count(S.COMPLETE, S.PRUNED), count(S.RUNNING), count(S.WAITING)
            failed = sum(1 for t in trials if t.state == S.FAIL and "mlplatform.failure" in t.user_attrs)
            if finished >= self.budget["trials"]:
                return "done", None
            if self.deadline and time.time() >= self.deadline:
                return "deadline", None
            if failed > self.budget["maxFailedTrials"]:
                return "failed", None
            if self.terminating:
                return "terminated", None
            if waiting == 0 and finished + running >= self.budget["trials"]:
                return "idle", None
            trial = self.study.ask()  # a queued retry first, else a new trial
            self.storage.record_heartbeat(trial._trial_id)
            params = L.suggest(trial, self.cfg["parameters"])
            trial.set_user_attr("mlplatform.worker", self.name)
            return "run", (trial, params)

    def fail_stale(self):
        """Fails the trials of lost workers and queues their retries (a signed heartbeat age, see sweep_lib)."""
        return L.fail_stale_trials(self.study, self.storage, self.storage.engine, self.cfg["heartbeat"]["gracePeriodSeconds"])

    def run(self):
        hb = self.cfg["heartbeat"]
        idle_limit, idle_since, seq, outcome = hb["gracePeriodSeconds"] + 2 * hb["intervalSeconds"], None, 0, None
        self.await_runner()
        errors = 0
        while outcome is None:
            try:
                decision, payload = self.gate()
                errors = 0
            except Exception as e:  # the database restarting, a network blip: retry, then give up (the Job retries the pod)
                errors += 1
                if errors > 5:
                    raise
                L.log("warning: asking for a trial failed (%s); retrying" % str(e).splitlines()[0][:200])
                time.sleep(min(2 ** errors, 30))
                continue
            if decision == "run":
                idle_since = None
                if not self.run_trial(payload[0], payload[1], seq):
                    outcome = "interrupted"
                seq += 1
            elif decision == "idle":
                idle_since = idle_since or time.time()
                if time.time() - idle_since > idle_limit:
                    outcome = "idle"
                else:
                    time.sleep(min(5, hb["intervalSeconds"]))
            else:
                outcome = decision
        if outcome == "interrupted" and self.terminating:
            outcome = "terminated"  # SIGTERM mid-trial: the trial was handed back for a retry
        self.summary(outcome)
        L.write_atomic(os.path.join(L.SWEEP_DIR, "done"), outcome + "\n")
        # 143 = 128 + SIGTERM, the code of a process ended by SIGTERM: the Job's podFailurePolicy ignores it.
        # "interrupted" (the trial container stopped answering) is the pod's failure: exit 1.
        return {"done": 0, "deadline": 0, "idle": 0, "failed": L.EXIT_STOP_JOB, "terminated": 143}.get(outcome, 1)

    def await_runner(self):
        path, start = os.path.join(L.SWEEP_DIR, "runner.alive"), time.time()
        while not os.path.exists(path):
            if time.time() - start > L.PEER_TIMEOUT:
                L.die("the trial container's runner did not start within %ds" % L.PEER_TIMEOUT, code=1)
            time.sleep(0.2)

    def run_trial(self, trial, params, seq):
        from sweep_trial import TrialRun
        return TrialRun(self, trial, params, seq).execute()

    def summary(self, outcome):
        S, study = self.S, self.study
        trials = study.get_trials(deepcopy=False)
        count = lambda s: sum(1 for t in trials if t.state == s)
        try:
            best = study.best_trials if len(self.cfg["objectives"]) > 1 else [study.best_trial]
        except ValueError:
            best = []
        result = {"study": self.cfg["study"], "outcome": outcome, "worker": self.name,
                  "finished": count(S.COMPLETE) + count(S.PRUNED), "complete": count(S.COMPLETE), "pruned": count(S.PRUNED),
                  "failed": count(S.FAIL), "running": count(S.RUNNING),
                  "best": [{"number": t.number, "values": t.values, "params": t.params} for t in best]}
        print("SWEEP_RESULT " + json.dumps(result, sort_keys=True), flush=True)
        if outcome not in ("done", "deadline", "failed"):
            return  # the sweep goes on elsewhere: the last worker to end tags the parent run
        tags = [{"key": "mlplatform.outcome", "value": outcome}]
        metrics = []
        if best:
            tags += [{"key": "mlplatform.best_trials", "value": json.dumps(result["best"])[:5000]},
                     {"key": "mlplatform.best_trial_number", "value": str(best[0].number)},
                     {"key": "mlplatform.best_params", "value": json.dumps(best[0].params)[:5000]}]
            if len(best) == 1:
                metrics = [L.metric("best." + o["metric"], best[0].values[i], 0) for i, o in enumerate(self.cfg["objectives"])]
        self.safe("summary", self.mlflow.log_batch, self.parent, metrics, (), tags)
        self.safe("summary", self.mlflow.finish, self.parent, "FAILED" if outcome == "failed" else "FINISHED")


def dashboard(cfg):
    wait(cfg, "tables")
    quiet_optuna()
    from optuna.storages import RDBStorage
    from optuna_dashboard import run_server
    storage = RDBStorage(L.storage_url(), engine_kwargs=L.engine_kwargs(), skip_compatibility_check=True, skip_table_creation=True)
    run_server(storage, host="0.0.0.0", port=int(os.environ.get("SWEEP_DASHBOARD_PORT", "8080")))


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    cfg = L.load_config()
    if command == "create":
        create(cfg)
    elif command == "wait":
        wait(cfg)
    elif command == "worker":
        sys.exit(Worker(cfg).run())
    elif command == "dashboard":
        dashboard(cfg)
    else:
        L.die("usage: sweep.py create|wait|worker|dashboard")


if __name__ == "__main__":
    main()
