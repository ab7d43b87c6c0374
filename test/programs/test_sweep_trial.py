"""One trial (sweep_trial.TrialRun) on stand-ins for the worker, the Optuna trial and the study: the run.sh
it hands to the runner (values passed as data, never as shell), its output read as metric lines,
intermediate values reported once per step, pruning, the final values by strategy, and the state the trial
ends in."""
import json
import os
import subprocess
from types import SimpleNamespace

import pytest
from optuna.trial import TrialState as S

import sweep_lib as L
import sweep_trial as T


class Trial:
    number, _trial_id = 5, 50

    def __init__(self, prune_at=None):
        self.reports, self.attrs, self.prune_at = [], {}, prune_at

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune_at is not None and self.reports[-1][0] >= self.prune_at

    def set_user_attr(self, key, value):
        self.attrs[key] = value


class Study:
    def __init__(self, fail=False):
        self.told, self.fail = [], fail

    def tell(self, trial, values=None, state=None):
        if self.fail:
            raise RuntimeError("trial 5 is already finished")
        self.told.append((values, state))


def config(objectives=("val_loss",), strategies=None, pruner="median", stdout=True, json_file=False, parameters_as="flags",
           args=(), command=("python", "train.py")):
    strategies = strategies or {}
    return {
        "study": "resnet", "objectives": [{"metric": m, "direction": "minimize", "strategy": strategies.get(m, "latest")} for m in objectives],
        "constraints": [], "pruner": {"kind": pruner, "settings": {}}, "metrics": {"stdout": stdout, "jsonFile": json_file},
        "budget": {"trials": 10}, "heartbeat": {"intervalSeconds": 30, "gracePeriodSeconds": 90},
        "trial": {"command": list(command), "args": list(args), "parametersAs": parameters_as},
    }


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setattr(L, "SWEEP_DIR", str(tmp_path))

    def make(cfg=None, params=None, trial=None, study=None, extra_metrics=()):
        cfg = cfg or config()
        names = [o["metric"] for o in cfg["objectives"]] + list(extra_metrics)
        strategy = {o["metric"]: o["strategy"] for o in cfg["objectives"]}
        strategy.update({m: "latest" for m in extra_metrics})
        w = SimpleNamespace(cfg=cfg, names=names, strategy=strategy, S=S, study=study or Study(), deadline=None, terminating=False,
                            safe=lambda what, fn, *args: None)
        r = T.TrialRun(w, trial or Trial(), params or {}, 0)
        os.makedirs(r.dir, exist_ok=True)
        return r
    return make


# ---------------------------------------------------------------------------------------------
# run.sh

def shell_words(script, tmp_path):
    """What the trial's command receives: run.sh executed by /bin/sh with `printf` as the command."""
    path = tmp_path / "run.sh"
    path.write_text(script)
    out = subprocess.run(["/bin/sh", str(path)], capture_output=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    return out.decode().split("\0")[:-1]


def test_run_sh_exports_the_trial_s_environment_and_execs_the_command(run):
    r = run(config(parameters_as="flags-and-env", json_file=True), {"lr": 0.001, "opt": "sgd", "bn": True})
    r.write_script()
    script = open(os.path.join(r.dir, "run.sh")).read().splitlines()
    assert script == [
        "#!/bin/sh",
        "export SWEEP_METRICS_FILE='%s'" % os.path.join(r.dir, "metrics.json"),
        "export SWEEP_PARAMS_JSON='{\"bn\": true, \"lr\": 0.001, \"opt\": \"sgd\"}'",
        "export SWEEP_PARAM_BN='true'",
        "export SWEEP_PARAM_LR='0.001'",
        "export SWEEP_PARAM_OPT='sgd'",
        "export SWEEP_STUDY='resnet'",
        "export SWEEP_TRIAL_NUMBER='5'",
        "exec 'python' 'train.py' '--lr=0.001' '--opt=sgd' '--bn=true'",
    ]


def test_placeholders_in_args_take_the_parameter_values(run, tmp_path):
    r = run(config(parameters_as="env", args=["--lr", "{{lr}}", "--tag={{ opt }}-x", "{{opt}}{{lr}}"], command=["printf", "%s\\0"]), {"lr": 1e-05, "opt": "sgd"})
    r.write_script()
    assert shell_words(open(os.path.join(r.dir, "run.sh")).read(), tmp_path) == ["--lr", "1e-05", "--tag=sgd-x", "sgd1e-05"]


HOSTILE = ["it's", "a b", "$(touch pwned)", "`touch pwned`", "\"; touch pwned; \"", "x\ny", "*", "-n", "$HOME", "\\", "'\"'\"'"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_reaches_the_command_as_one_word_whatever_it_holds(run, tmp_path, value):
    r = run(config(parameters_as="flags", args=["{{v}}"], command=["printf", "%s\\0"]), {"v": value})
    r.write_script()
    assert shell_words(open(os.path.join(r.dir, "run.sh")).read(), tmp_path) == [value, "--v=" + value]
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_reaches_the_environment_unchanged_whatever_it_holds(run, tmp_path, value):
    r = run(config(parameters_as="env", command=["env", "-0"]), {"v": value})
    r.write_script()
    env = shell_words(open(os.path.join(r.dir, "run.sh")).read(), tmp_path)
    assert "SWEEP_PARAM_V=" + value in env
    assert "SWEEP_PARAMS_JSON=" + json.dumps({"v": value}) in env
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("value", HOSTILE)
def test_sh_quote_round_trips_through_the_shell(tmp_path, value):
    assert shell_words("printf '%%s\\0' %s\n" % T.sh_quote(value), tmp_path) == [value]


# ---------------------------------------------------------------------------------------------
# Output and metric lines

def test_each_metric_line_adds_a_value_with_its_step_or_the_next_index(run, capsys):
    r = run(extra_metrics=["acc"])
    for line in ["epoch 0 val_loss=0.9 acc=0.5", "val_loss=0.8", "step=10 val_loss=0.7", "plain output"]:
        r.line(line)
    assert r.values == {"val_loss": [(0, 0.9), (1, 0.8), (10, 0.7)], "acc": [(0, 0.5)]}
    assert [(m["key"], m["value"], m["step"]) for m in r.pending] == [("val_loss", 0.9, 0), ("acc", 0.5, 0), ("val_loss", 0.8, 1), ("val_loss", 0.7, 10)]
    assert "[trial 5] plain output" in capsys.readouterr().out


def test_the_objective_is_reported_to_optuna_once_per_step(run):
    trial = Trial()
    r = run(trial=trial, extra_metrics=["acc"])
    for line in ["step=1 val_loss=0.9 acc=0.1", "step=1 val_loss=0.8", "step=2 val_loss=0.7", "step=1 val_loss=0.1"]:
        r.line(line)
    assert trial.reports == [(1, 0.9), (2, 0.7)]


def test_several_objectives_report_nothing_and_never_prune(run):
    trial = Trial(prune_at=0)
    r = run(config(objectives=("loss", "latency")), trial=trial)
    r.line("loss=1 latency=2")
    assert trial.reports == [] and not r.pruned and not r.pruning


def test_output_without_metrics_when_stdout_metrics_are_off(run):
    trial = Trial()
    r = run(config(stdout=False), trial=trial)
    r.line("val_loss=0.5")
    assert r.values == {"val_loss": []} and trial.reports == []


def test_a_pruned_trial_is_asked_to_stop_once(run):
    trial = Trial(prune_at=2)
    r = run(trial=trial)
    for step in range(5):
        r.line("step=%d val_loss=0.5" % step)
    assert r.pruned and r.stop_sent
    assert open(os.path.join(r.dir, "stop")).read() == "pruned\n"
    # Nothing after the prune decision reaches Optuna (the values still go to MLflow and the final values).
    assert trial.reports == [(0, 0.5), (1, 0.5), (2, 0.5)]
    assert [m["step"] for m in r.pending] == [0, 1, 2, 3, 4]


def test_with_real_optuna_a_pruned_trial_s_value_is_the_one_at_the_prune_decision(run):
    """Optuna's own MedianPruner and tell(): a PRUNED trial takes its last intermediate value as its value
    (optuna/study/_tell.py), and the pruner compares later trials with the intermediate values; so the
    steps the trial prints while it stops must not be reported."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    study.enqueue_trial({})
    good = study.ask()
    for s in range(4):
        good.report(0.1, s)
    study.tell(good, 0.1)
    trial = study.ask()
    r = run(trial=trial, study=study)
    for s, v in enumerate([0.9, 0.8, 0.05, 0.01]):  # pruned at step 0; it prints better values while it stops
        r.line("step=%d val_loss=%s" % (s, v))
    r.finish(143)
    frozen = study.trials[-1]
    assert frozen.state == optuna.trial.TrialState.PRUNED
    assert frozen.intermediate_values == {0: 0.9}
    assert frozen.value == 0.9


def test_a_trial_finished_elsewhere_stops_reporting_and_records_nothing(run, capsys):
    """trial.report raises when another worker failed the trial as stale meanwhile (Optuna 3.x: RuntimeError
    "Trial#N has already finished and can not be updated."; 4.x: UpdateFinishedTrialError, a RuntimeError).
    The worker must not crash (that cost a pod failure): it stops the trial, whose retry runs it again."""
    class Finished(Trial):
        def report(self, value, step):
            if step >= 1:
                raise RuntimeError("Trial#5 has already finished and can not be updated.")
            super().report(value, step)

        def set_user_attr(self, key, value):
            raise RuntimeError("Trial#5 has already finished and can not be updated.")
    trial, study = Finished(prune_at=99), Study()
    r = run(trial=trial, study=study)
    for s in range(4):
        r.line("step=%d val_loss=0.5" % s)
    assert trial.reports == [(0, 0.5)]
    assert r.orphaned and open(os.path.join(r.dir, "stop")).read() == "finished elsewhere\n"
    r.finish(143)
    assert study.told == []
    out = capsys.readouterr().out
    assert out.count("warning: trial 5 was finished elsewhere") == 1
    assert "trial 5 ended (exit code 143); not recorded: it was finished elsewhere" in out


def test_a_database_blip_while_reporting_skips_the_step_not_the_trial(run, capsys):
    class Blip(Trial):
        def report(self, value, step):
            if step == 1:
                raise ConnectionError("server closed the connection unexpectedly")
            super().report(value, step)
    trial = Blip()
    r = run(trial=trial)
    for s in range(3):
        r.line("step=%d val_loss=0.5" % s)
    assert trial.reports == [(0, 0.5), (2, 0.5)] and not r.orphaned and not r.stop_sent
    assert "warning: trial 5: reporting step 1 failed: server closed the connection unexpectedly" in capsys.readouterr().out


def test_setting_attributes_of_a_trial_finished_elsewhere_is_guarded_like_tell(run, capsys):
    class Finished(Trial):
        def set_user_attr(self, key, value):
            raise RuntimeError("Trial#5 has already finished and can not be updated.")
    r = run(trial=Finished(), study=Study())
    r.line("val_loss=0.5")
    r.finish(0)
    assert r.w.study.told == []
    assert "could not record trial 5" in capsys.readouterr().out


def test_no_pruner_no_pruning(run):
    r = run(config(pruner="none"), trial=Trial(prune_at=0))
    r.line("val_loss=0.5")
    assert not r.pruned and not os.path.exists(os.path.join(r.dir, "stop"))


def test_the_output_is_read_in_pieces_and_a_last_line_without_newline_counts_at_the_end(run):
    r = run()
    out = os.path.join(r.dir, "output")
    with open(out, "wb") as f:
        f.write(b"val_loss=0.9\nval_lo")
    pos, buf = r.drain(out, 0, b"", final=False)
    assert r.values["val_loss"] == [(0, 0.9)] and buf == b"val_lo"
    with open(out, "ab") as f:
        f.write(b"ss=0.8\r\nval_loss=0.7")
    pos, buf = r.drain(out, pos, buf, final=False)
    assert r.values["val_loss"] == [(0, 0.9), (1, 0.8)] and buf == b"val_loss=0.7"
    pos, buf = r.drain(out, pos, buf, final=True)
    assert r.values["val_loss"] == [(0, 0.9), (1, 0.8), (2, 0.7)] and buf == b""
    assert pos == os.path.getsize(out)


def test_undecodable_output_is_replaced_not_fatal(run, capsys):
    r = run()
    out = os.path.join(r.dir, "output")
    with open(out, "wb") as f:
        f.write(b"\xff\xfe val_loss=0.5\n")
    r.drain(out, 0, b"", final=True)
    assert r.values["val_loss"] == [(0, 0.5)]
    assert "\ufffd" in capsys.readouterr().out


def test_monitor_returns_the_exit_code_once_the_runner_marked_it_written(run, monkeypatch):
    r = run()
    with open(os.path.join(r.dir, "output"), "w") as f:
        f.write("val_loss=0.4")
    with open(os.path.join(r.dir, "exit"), "w") as f:
        f.write("0\n")
    open(os.path.join(r.dir, "exit.ok"), "w").close()
    assert r.monitor() == 0
    assert r.values["val_loss"] == [(0, 0.4)]


class Clock:
    """time.time and time.sleep of sweep_trial: each sleep moves the clock and calls `tick`."""

    def __init__(self, monkeypatch, tick):
        self.now, self.tick = 1000.0, tick
        monkeypatch.setattr(T.time, "time", lambda: self.now)
        monkeypatch.setattr(L.time, "time", lambda: self.now)
        monkeypatch.setattr(T.time, "sleep", self.sleep)

    def sleep(self, seconds):
        self.now += seconds
        self.tick(self.now)


def runner_beats(tmp_path):
    """A runner that beats every poll and ends the trial with 143 once asked to stop."""
    def tick(now):
        (tmp_path / "runner.alive").write_text(str(now))
        trial = tmp_path / "trials" / "0"
        if (trial / "stop").exists():
            (trial / "exit").write_text("143\n")
            (trial / "exit.ok").write_text("")
    return tick


def test_a_trial_over_its_timeout_is_asked_to_stop(run, tmp_path, monkeypatch):
    cfg = config()
    cfg["budget"]["trialTimeoutSeconds"] = 60
    r = run(cfg)
    clock = Clock(monkeypatch, runner_beats(tmp_path))
    assert r.monitor() == 143
    assert r.reason == "timeout after 60s"
    assert 1060 < clock.now < 1061


def test_a_trial_at_the_sweep_s_deadline_is_asked_to_stop(run, tmp_path, monkeypatch):
    r = run()
    r.w.deadline = 1030.0
    Clock(monkeypatch, runner_beats(tmp_path))
    assert r.monitor() == 143
    assert r.reason == T.DEADLINE


def test_sigterm_to_the_worker_stops_the_trial_as_interrupted(run, tmp_path, monkeypatch):
    r = run()
    r.w.terminating = True
    Clock(monkeypatch, runner_beats(tmp_path))
    assert r.monitor() == 143
    assert r.reason == "interrupted"


def runner_terminated(tmp_path, rc=143):
    """The pod's SIGTERM reached the runner first: it stops the trial and marks it terminated."""
    def tick(now):
        (tmp_path / "runner.alive").write_text(str(now))
        trial = tmp_path / "trials" / "0"
        if not (trial / "exit.ok").exists():
            (trial / "terminated").write_text("")
            (trial / "exit").write_text("%d\n" % rc)
            (trial / "exit.ok").write_text("")
    return tick


def test_a_trial_the_runner_stopped_on_sigterm_is_interrupted_even_before_the_worker_s_own_signal(run, tmp_path, monkeypatch):
    r = run()
    Clock(monkeypatch, runner_terminated(tmp_path))
    assert r.monitor() == 143
    assert r.reason == "interrupted"  # handed back (requeue), not failed as "exit code 143"


def test_a_trial_that_finished_cleanly_as_the_runner_got_sigterm_is_recorded(run, tmp_path, monkeypatch):
    r = run()
    Clock(monkeypatch, runner_terminated(tmp_path, rc=0))
    assert r.monitor() == 0 and r.reason is None


def test_a_pruned_trial_stays_pruned_when_sigterm_comes_as_it_stops(run, tmp_path, monkeypatch):
    r = run(trial=Trial(prune_at=0))
    r.line("val_loss=0.5")
    Clock(monkeypatch, runner_terminated(tmp_path))
    assert r.monitor() == 143 and r.pruned and r.reason is None


def test_a_silent_runner_gives_the_trial_up_for_a_retry(run, monkeypatch, capsys):
    r = run()
    clock = Clock(monkeypatch, lambda now: None)
    assert r.monitor() is None
    assert L.PEER_TIMEOUT < clock.now - 1000 <= L.PEER_TIMEOUT + 1
    assert "the trial container stopped answering (120s); trial 5 will be retried" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Final values and the trial's state

@pytest.mark.parametrize("strategy, value", [("latest", 0.6), ("min", 0.2), ("max", 0.9)])
def test_the_final_value_follows_the_objective_s_strategy(run, strategy, value):
    r = run(config(strategies={"val_loss": strategy}))
    for v in (0.5, 0.2, 0.9, 0.6):
        r.line("val_loss=%s" % v)
    assert r.final_values() == {"val_loss": value}


def test_the_metrics_file_adds_a_last_value_and_ignores_what_is_not_a_finite_number(run):
    r = run(config(json_file=True), extra_metrics=["acc", "f1", "n"])
    r.line("val_loss=0.5")
    with open(os.path.join(r.dir, "metrics.json"), "w") as f:
        f.write('{"val_loss": 0.3, "acc": true, "f1": NaN, "n": "7", "other": 1}')
    assert r.final_values() == {"val_loss": 0.3}


def test_an_unreadable_metrics_file_is_a_warning(run, capsys):
    r = run(config(json_file=True))
    r.line("val_loss=0.5")
    with open(os.path.join(r.dir, "metrics.json"), "w") as f:
        f.write("[1, 2")
    assert r.final_values() == {"val_loss": 0.5}
    assert "warning: trial 5 wrote an unreadable metrics file" in capsys.readouterr().out


def finish(run, rc, lines=(), objectives=("val_loss",), **attrs):
    trial, study = Trial(), Study()
    r = run(config(objectives=objectives), trial=trial, study=study)
    for line in lines:
        r.line(line)
    for k, v in attrs.items():
        setattr(r, k, v)
    r.finish(rc)
    return trial, study


@pytest.mark.parametrize("rc, lines, attrs, told, attr", [
    (0, ["val_loss=0.5"], {}, (0.5, None), None),
    (0, ["val_loss=0.5"], {"pruned": True}, (None, S.PRUNED), None),
    (1, ["val_loss=0.5"], {}, (None, S.FAIL), ("mlplatform.failure", "exit code 1")),
    (0, ["acc=1"], {}, (None, S.FAIL), ("mlplatform.failure", "reported no value of val_loss")),
    (143, ["val_loss=0.5"], {"reason": "timeout after 60s"}, (None, S.FAIL), ("mlplatform.failure", "timeout after 60s")),
    (143, ["val_loss=0.5"], {"reason": T.DEADLINE}, (None, S.FAIL), ("mlplatform.stopped", T.DEADLINE)),
])
def test_the_state_a_trial_ends_in(run, rc, lines, attrs, told, attr):
    trial, study = finish(run, rc, lines, **attrs)
    assert study.told == [told]
    assert {k: v for k, v in trial.attrs.items() if k.startswith("mlplatform.")} == (dict([attr]) if attr else {})
    if "val_loss=0.5" in lines:
        assert trial.attrs["metric:val_loss"] == 0.5


def test_several_objectives_are_told_as_a_list_in_their_order(run):
    _, study = finish(run, 0, ["latency=20 loss=0.5"], objectives=("loss", "latency"))
    assert study.told == [([0.5, 20.0], None)]


def test_a_trial_failed_meanwhile_by_another_worker_is_left_to_its_retry(run, capsys):
    r = run(trial=Trial(), study=Study(fail=True))
    r.line("val_loss=0.5")
    r.finish(0)
    assert "could not record trial 5" in capsys.readouterr().out


def test_stop_writes_the_first_reason_once(run):
    r = run()
    r.stop("timeout after 5s")
    r.stop(T.DEADLINE)
    assert r.reason == "timeout after 5s"
    assert open(os.path.join(r.dir, "stop")).read() == "timeout after 5s\n"


def test_the_trial_directory_is_under_the_shared_folder(run, tmp_path):
    assert run().dir == os.path.join(str(tmp_path), "trials", "0")


def test_tracking_a_retry_ends_the_lost_attempt_s_run_and_logs_the_params_as_the_trial_sees_them(run, recorder):
    trial = Trial()
    r = run(params={"lr": 1e-05, "bn": False}, trial=trial)
    w = r.w
    w.safe = lambda what, fn, *args: fn(*args)
    w.mlflow = SimpleNamespace(create_run=recorder("run-9"), log_batch=recorder(), finish=recorder())
    w.parent, w.experiment, w.name = "parent", "1", "worker-0"
    w.storage = SimpleNamespace(get_trial=lambda trial_id: SimpleNamespace(user_attrs={"mlplatform.mlflow_run_id": "run-3"}, system_attrs={"failed_trial": 2}))
    r.start_tracking()
    assert w.mlflow.finish.calls == [(("run-3", "FAILED"), {})]
    assert w.mlflow.create_run.calls == [(("1", "trial-5", {"mlflow.parentRunId": "parent", "optuna.study": "resnet", "optuna.trial_number": 5,
                                                             "mlplatform.worker": "worker-0", "optuna.retry_of": 2}), {})]
    assert r.run_id == "run-9" and trial.attrs["mlplatform.mlflow_run_id"] == "run-9"
    assert w.mlflow.log_batch.calls == [(("run-9", (), [{"key": "lr", "value": "1e-05"}, {"key": "bn", "value": "false"}]), {})]
