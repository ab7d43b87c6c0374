"""mlplatform sweep: one trial. The worker hands the command to the runner in the trial container
through files in SWEEP_DIR/trials/<seq>/ (run.sh, go; stop to end it early), streams its output,
reports intermediate values for pruning, and tells Optuna the result."""
import copy, json, math, os, re, shutil, threading, time
import sweep_lib as L

PLACEHOLDER = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
POLL = 0.2
DEADLINE = "sweep deadline reached"


def sh_quote(s):
    return "'" + str(s).replace("'", "'\"'\"'") + "'"


class TrialRun:
    def __init__(self, worker, trial, params, seq):
        self.w, self.trial, self.params, self.number = worker, trial, params, trial.number
        self.cfg = worker.cfg
        self.dir = os.path.join(L.SWEEP_DIR, "trials", str(seq))
        self.values = {m: [] for m in worker.names}  # metric -> [(step, value)]
        self.pending, self.reported, self.run_id = [], set(), None
        self.pruned, self.reason, self.stop_sent = False, None, False
        self.orphaned = False  # failed as lost by another worker meanwhile: its retry runs it again
        self.single = len(self.cfg["objectives"]) == 1
        self.objective = self.cfg["objectives"][0]["metric"]
        self.pruning = self.single and self.cfg["pruner"]["kind"] != "none"

    def execute(self):
        """Runs the trial; returns False when the worker must stop (terminated, runner lost)."""
        os.makedirs(self.dir, exist_ok=True)
        self.start_tracking()
        self.write_script()
        stop_hb = threading.Event()
        hb = threading.Thread(target=self.heartbeat, args=(stop_hb,), daemon=True)
        hb.start()
        L.write_atomic(os.path.join(self.dir, "go"), "%d\n" % self.number)
        L.log("trial %d started: %s" % (self.number, json.dumps(self.params, sort_keys=True)))
        rc = self.monitor()
        stop_hb.set()
        hb.join()
        if rc is None or self.reason == "interrupted":
            self.requeue()
            return False
        self.finish(rc)
        shutil.rmtree(self.dir, ignore_errors=True)  # the output was streamed to the log already
        return True

    def heartbeat(self, stop):
        while not stop.wait(self.cfg["heartbeat"]["intervalSeconds"]):
            try:
                self.w.storage.record_heartbeat(self.trial._trial_id)
            except Exception as e:
                L.log("warning: heartbeat of trial %d failed: %s" % (self.number, e))

    def start_tracking(self):
        w, frozen = self.w, self.w.storage.get_trial(self.trial._trial_id)
        previous, origin = frozen.user_attrs.get("mlplatform.mlflow_run_id"), frozen.system_attrs.get("failed_trial")
        if previous:  # a retry: the lost attempt's run ends FAILED
            w.safe("update", w.mlflow.finish, previous, "FAILED")
        tags = {"mlflow.parentRunId": w.parent, "optuna.study": self.cfg["study"], "optuna.trial_number": self.number, "mlplatform.worker": w.name}
        if origin is not None:
            tags["optuna.retry_of"] = origin
        self.run_id = w.safe("run", w.mlflow.create_run, w.experiment, "trial-%d" % self.number, tags)
        if self.run_id:
            self.trial.set_user_attr("mlplatform.mlflow_run_id", self.run_id)
            w.safe("params", w.mlflow.log_batch, self.run_id, (), [{"key": k, "value": L.fmt(v)[:500]} for k, v in self.params.items()])

    def write_script(self):
        t, p = self.cfg["trial"], self.params
        env = {"SWEEP_TRIAL_NUMBER": str(self.number), "SWEEP_STUDY": self.cfg["study"], "SWEEP_PARAMS_JSON": json.dumps(p, sort_keys=True)}
        if t["parametersAs"] in ("env", "flags-and-env"):
            env.update({"SWEEP_PARAM_" + k.upper(): L.fmt(v) for k, v in p.items()})
        if self.cfg["metrics"]["jsonFile"]:
            env["SWEEP_METRICS_FILE"] = os.path.join(self.dir, "metrics.json")
        if self.run_id:
            env["MLFLOW_RUN_ID"] = self.run_id
        args = [PLACEHOLDER.sub(lambda m: L.fmt(p[m.group(1)]), a) for a in t["args"]]
        if t["parametersAs"] in ("flags", "flags-and-env"):
            args += ["--%s=%s" % (k, L.fmt(v)) for k, v in p.items()]
        lines = ["#!/bin/sh"] + ["export %s=%s" % (k, sh_quote(v)) for k, v in sorted(env.items())]
        lines.append("exec " + " ".join(sh_quote(a) for a in list(t["command"]) + args))
        L.write_atomic(os.path.join(self.dir, "run.sh"), "\n".join(lines) + "\n")

    def stop(self, reason=None):
        if not self.stop_sent:
            self.reason = self.reason or reason
            self.stop_sent = True
            L.write_atomic(os.path.join(self.dir, "stop"), (reason or "pruned") + "\n")

    def monitor(self):
        """Streams output until the runner writes the exit code; None when the runner is gone."""
        out, exit_path = os.path.join(self.dir, "output"), os.path.join(self.dir, "exit")
        start, timeout, pos, buf = time.time(), self.cfg["budget"].get("trialTimeoutSeconds"), 0, b""
        alive, last_flush = L.Liveness(os.path.join(L.SWEEP_DIR, "runner.alive")), time.time()
        while True:
            rc = L.read_int(exit_path) if os.path.exists(exit_path + ".ok") else None
            pos, buf = self.drain(out, pos, buf, final=rc is not None)
            if rc is not None:
                self.flush()
                # The pod's SIGTERM reaches both containers: the runner may stop the trial before this
                # loop saw its own flag. A trial that ended because of it is handed back, not failed.
                terminated = self.w.terminating or os.path.exists(os.path.join(self.dir, "terminated"))
                if rc != 0 and terminated and not self.reason and not self.pruned:
                    self.reason = "interrupted"
                return rc
            now = time.time()
            if timeout and now - start > timeout:
                self.stop("timeout after %ds" % timeout)
            elif self.w.deadline and now >= self.w.deadline:
                self.stop(DEADLINE)
            elif self.w.terminating:
                self.stop("interrupted")
            if alive.stale(L.PEER_TIMEOUT):
                L.log("error: the trial container stopped answering (%ds); trial %d will be retried" % (L.PEER_TIMEOUT, self.number))
                return None
            if now - last_flush > 10:
                self.flush()
                last_flush = now
            time.sleep(POLL)

    def drain(self, path, pos, buf, final):
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        if final and buf:
            lines.append(buf)
            buf = b""
        for raw in lines:
            self.line(raw.decode("utf-8", "replace").rstrip("\r"))
        return pos + len(chunk), buf

    def line(self, text):
        print("[trial %d] %s" % (self.number, text), flush=True)
        if not self.cfg["metrics"]["stdout"]:
            return
        found, step = L.parse_metrics(text, self.values)
        for name, v in found.items():
            s = step if step is not None else len(self.values[name])
            self.values[name].append((s, v))
            self.pending.append(L.metric(name, v, s))
            # After the prune decision (or once the trial was finished elsewhere) nothing more reaches
            # Optuna: a pruned trial's value is its last reported one, and the pruner compares it.
            if self.single and name == self.objective and s not in self.reported and not self.pruned and not self.orphaned:
                self.reported.add(s)
                self.report(v, s)

    def report(self, v, s):
        try:
            self.trial.report(v, s)
            prune = self.pruning and not self.stop_sent and self.trial.should_prune()
        except RuntimeError as e:  # UpdateFinishedTrialError (4.x), "Trial#N has already finished" (3.x)
            self.orphan(e)
            return
        except Exception as e:  # a database blip: this step is not reported, the trial goes on
            L.log("warning: trial %d: reporting step %d failed: %s" % (self.number, s, str(e).splitlines()[0][:200]))
            return
        if prune:
            self.pruned = True
            L.log("trial %d pruned at step %d (%s=%g)" % (self.number, s, self.objective, v))
            self.stop()

    def orphan(self, error):
        """The trial was finished meanwhile by another worker (failed as stale: its retry is queued):
        stop reporting, stop the trial (the retry runs it again) and record nothing more."""
        if not self.orphaned:
            self.orphaned = True
            L.log("warning: trial %d was finished elsewhere (%s); stopping it, its retry runs it again" % (self.number, str(error).splitlines()[0][:200]))
            self.stop("finished elsewhere")

    def flush(self):
        if self.pending and self.run_id:
            self.w.safe("metrics", self.w.mlflow.log_batch, self.run_id, self.pending)
        self.pending = []

    def final_values(self):
        file_values = {}
        if self.cfg["metrics"]["jsonFile"]:
            try:
                with open(os.path.join(self.dir, "metrics.json")) as f:
                    data = json.load(f)
                file_values = {k: float(v) for k, v in data.items() if k in self.values and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
            except FileNotFoundError:
                pass
            except (ValueError, AttributeError) as e:
                L.log("warning: trial %d wrote an unreadable metrics file: %s" % (self.number, e))
        final = {}
        for name, series in self.values.items():
            vals = [v for _, v in series] + ([file_values[name]] if name in file_values else [])
            if vals:
                final[name] = {"latest": vals[-1], "min": min(vals), "max": max(vals)}[self.w.strategy[name]]
        if file_values and self.run_id:
            step = max([s for series in self.values.values() for s, _ in series] + [-1]) + 1
            self.w.safe("metrics", self.w.mlflow.log_batch, self.run_id, [L.metric(k, v, step) for k, v in file_values.items()])
        return final

    def finish(self, rc):
        S, study, trial = self.w.S, self.w.study, self.trial
        final = self.final_values()
        if self.orphaned:
            L.log("trial %d ended (exit code %d); not recorded: it was finished elsewhere" % (self.number, rc))
            if self.run_id:
                self.w.safe("update", self.w.mlflow.finish, self.run_id, "FAILED")
            return
        missing = [o["metric"] for o in self.cfg["objectives"] if o["metric"] not in final]
        if self.pruned:
            state, failure = S.PRUNED, None
        elif self.reason:
            state, failure = S.FAIL, self.reason
        elif rc != 0:
            state, failure = S.FAIL, "exit code %d" % rc
        elif missing:
            state, failure = S.FAIL, "reported no value of %s" % ", ".join(missing)
        else:
            state, failure = S.COMPLETE, None
        try:
            for name, v in final.items():
                trial.set_user_attr("metric:" + name, v)
            if failure:  # a trial stopped by the sweep's deadline is not the trial's failure
                trial.set_user_attr("mlplatform.stopped" if failure == DEADLINE else "mlplatform.failure", failure)
            if state == S.COMPLETE:
                values = [final[o["metric"]] for o in self.cfg["objectives"]]
                study.tell(trial, values[0] if self.single else values)
            else:
                study.tell(trial, state=state)
        except Exception as e:  # failed meanwhile as stale by another worker: its retry runs it again
            L.log("warning: could not record trial %d (%s); it was probably failed as lost and will be retried" % (self.number, e))
            return
        L.log("trial %d %s%s %s" % (self.number, state.name, " (%s)" % failure if failure else "", json.dumps(final, sort_keys=True)))
        if self.run_id:
            status = {S.COMPLETE: "FINISHED", S.PRUNED: "KILLED"}.get(state, "FAILED")
            tags = [{"key": "optuna.state", "value": state.name}] + ([{"key": "mlplatform.failure", "value": failure[:500]}] if failure else [])
            self.w.safe("tags", self.w.mlflow.log_batch, self.run_id, (), (), tags)
            self.w.safe("update", self.w.mlflow.finish, self.run_id, status)

    def requeue(self):
        """Interrupted (SIGTERM, lost runner): fail the trial and queue its retry, like a stale trial."""
        storage = self.w.storage
        try:
            with self.w.lock:
                if storage.set_trial_state_values(self.trial._trial_id, state=self.w.S.FAIL):
                    callback = L.stale_callback(storage)
                    if callback:
                        callback(self.w.study, copy.deepcopy(storage.get_trial(self.trial._trial_id)))
        except Exception as e:
            L.log("warning: could not fail interrupted trial %d (%s); the heartbeat grace period will" % (self.number, e))
        if self.run_id:
            self.w.safe("update", self.w.mlflow.finish, self.run_id, "KILLED")
