"""The worker loop of sweep.py: Worker.gate decides, under the study lock, whether to start a trial
(budget, deadline, failure budget, SIGTERM, idle), and Worker.run retries a failing gate before it gives
the pod up, then maps the outcome to the container's exit code. Run on stand-ins for the study and the lock."""
import os
from types import SimpleNamespace

import pytest
from optuna.trial import TrialState as S

import sweep
import sweep_lib as L


class Lock:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        self.log.append("lock")

    def __exit__(self, *exc):
        self.log.append("unlock")


class Trial:
    def __init__(self, state, **attrs):
        self.state, self.user_attrs = state, attrs


class Asked:
    _trial_id, number = 17, 4

    def __init__(self, log):
        self.log = log

    def suggest_categorical(self, name, choices):
        return choices[0]

    def set_user_attr(self, key, value):
        self.log.append(("attr", key, value))


class Study:
    def __init__(self, log, trials):
        self.log, self.trials = log, trials

    def get_trials(self, deepcopy):
        assert deepcopy is False
        self.log.append("get_trials")
        return self.trials

    def ask(self):
        self.log.append("ask")
        return Asked(self.log)


def worker(trials, budget=None, deadline=None, terminating=False):
    log = []
    w = SimpleNamespace(
        S=S, lock=Lock(log), deadline=deadline, terminating=terminating, name="worker-1",
        budget=dict({"trials": 10, "maxFailedTrials": 2}, **(budget or {})),
        cfg={"parameters": [{"name": "opt", "type": "categorical", "choices": ["sgd"]}]},
        study=Study(log, trials),
        fail_stale=lambda: log.append("fail_stale_trials"),
        storage=SimpleNamespace(record_heartbeat=lambda trial_id: log.append(("heartbeat", trial_id))),
    )
    return w, log


def trials(complete=0, pruned=0, running=0, waiting=0, failed=0, lost=0):
    return ([Trial(S.COMPLETE)] * complete + [Trial(S.PRUNED)] * pruned + [Trial(S.RUNNING)] * running + [Trial(S.WAITING)] * waiting
            + [Trial(S.FAIL, **{"mlplatform.failure": "exit code 1"})] * failed + [Trial(S.FAIL)] * lost)


def test_a_trial_starts_under_the_lock_after_failing_stale_trials():
    w, log = worker(trials(complete=3, running=2))
    decision, (trial, params) = sweep.Worker.gate(w)
    assert decision == "run"
    assert params == {"opt": "sgd"}
    assert log == ["lock", "fail_stale_trials", "get_trials", "ask", ("heartbeat", 17), ("attr", "mlplatform.worker", "worker-1"), "unlock"]


@pytest.mark.parametrize("state, kw, decision", [
    (trials(complete=6, pruned=4), {}, "done"),                               # finished = complete + pruned
    (trials(complete=9, running=1), {}, "idle"),                              # the last trial runs elsewhere
    (trials(complete=9, running=1, waiting=1), {}, "run"),                    # a queued retry still runs
    (trials(complete=2, failed=3), {}, "failed"),                             # more failures than maxFailedTrials
    (trials(complete=2, failed=2, lost=5), {}, "run"),                        # lost workers' trials are not the trial's failures
    (trials(complete=1), {"deadline": 999.0}, "deadline"),
    (trials(complete=1), {"deadline": 10 ** 12}, "run"),
    (trials(complete=1), {"terminating": True}, "terminated"),
    # The order of the checks: the budget first, then the deadline, the failures, SIGTERM.
    (trials(complete=10, failed=9), {"deadline": 999.0, "terminating": True}, "done"),
    (trials(complete=1, failed=9), {"deadline": 999.0, "terminating": True}, "deadline"),
    (trials(complete=1, failed=9), {"terminating": True}, "failed"),
])
def test_the_gate_decides(monkeypatch, state, kw, decision):
    monkeypatch.setattr(sweep.time, "time", lambda: 1000.0)
    w, log = worker(state, **kw)
    assert sweep.Worker.gate(w)[0] == decision
    assert log[0] == "lock" and log[-1] == "unlock"
    assert ("ask" in log) == (decision == "run")


def test_the_lock_is_released_when_the_gate_fails():
    w, log = worker(trials())

    def broken():
        raise RuntimeError("database restarting")
    w.fail_stale = broken
    with pytest.raises(RuntimeError):
        sweep.Worker.gate(w)
    assert log == ["lock", "unlock"]


# ---------------------------------------------------------------------------------------------
# Worker.run

def runner(tmp_path, monkeypatch, gates):
    """A stand-in worker whose gate answers from `gates` (an exception is raised)."""
    sleeps = []
    monkeypatch.setattr(L, "SWEEP_DIR", str(tmp_path))
    monkeypatch.setattr(sweep.time, "sleep", sleeps.append)
    answers = iter(gates)
    outcomes, runs = [], []

    def gate():
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a
    w = SimpleNamespace(cfg={"heartbeat": {"intervalSeconds": 30, "gracePeriodSeconds": 90}}, gate=gate, await_runner=lambda: None, terminating=False,
                        summary=outcomes.append, run_trial=lambda trial, params, seq: runs.append((trial, params, seq)) or True)
    return w, sleeps, outcomes, runs


@pytest.mark.parametrize("outcome, code", [("done", 0), ("deadline", 0), ("failed", L.EXIT_STOP_JOB), ("terminated", 143)])
def test_the_outcome_is_the_exit_code_and_the_done_file_tells_the_runner(tmp_path, monkeypatch, outcome, code):
    w, _, outcomes, _ = runner(tmp_path, monkeypatch, [(outcome, None)])
    assert sweep.Worker.run(w) == code
    assert outcomes == [outcome]
    assert (tmp_path / "done").read_text() == outcome + "\n"


def test_trials_run_in_sequence_until_the_budget_is_spent(tmp_path, monkeypatch):
    w, _, _, runs = runner(tmp_path, monkeypatch, [("run", ("t0", {"x": 1})), ("run", ("t1", {"x": 2})), ("done", None)])
    assert sweep.Worker.run(w) == 0
    assert runs == [("t0", {"x": 1}, 0), ("t1", {"x": 2}, 1)]


def test_a_trial_interrupted_by_a_lost_runner_ends_the_loop_with_exit_1(tmp_path, monkeypatch):
    w, _, outcomes, _ = runner(tmp_path, monkeypatch, [("run", ("t0", {}))])
    w.run_trial = lambda trial, params, seq: False
    assert sweep.Worker.run(w) == 1
    assert outcomes == ["interrupted"]
    assert (tmp_path / "done").read_text() == "interrupted\n"


def test_sigterm_mid_trial_ends_the_loop_with_143(tmp_path, monkeypatch):
    # The trial was handed back (requeue); the container exits as a process ended by SIGTERM does
    # (128 + 15), the code the workers Job's podFailurePolicy ignores, not 1 (a pod failure).
    w, _, outcomes, _ = runner(tmp_path, monkeypatch, [("run", ("t0", {}))])

    def interrupted(trial, params, seq):
        w.terminating = True  # the signal handler ran during the trial
        return False
    w.run_trial = interrupted
    assert sweep.Worker.run(w) == 143
    assert outcomes == ["terminated"]
    assert (tmp_path / "done").read_text() == "terminated\n"


def test_a_failing_gate_is_retried_with_backoff_and_the_count_resets_after_a_success(tmp_path, monkeypatch):
    blip = RuntimeError("server closed the connection unexpectedly\nThis probably means...")
    gates = [blip] * 5 + [("run", ("t0", {}))] + [blip] * 5 + [("done", None)]
    w, sleeps, outcomes, _ = runner(tmp_path, monkeypatch, gates)
    assert sweep.Worker.run(w) == 0
    assert sleeps == [2, 4, 8, 16, 30] * 2
    assert outcomes == ["done"]


def test_a_sixth_failure_in_a_row_fails_the_pod(tmp_path, monkeypatch, capsys):
    w, sleeps, outcomes, _ = runner(tmp_path, monkeypatch, [RuntimeError("database gone")] * 6)
    with pytest.raises(RuntimeError, match="database gone"):
        sweep.Worker.run(w)
    assert len(sleeps) == 5
    assert outcomes == [] and not os.path.exists(tmp_path / "done")
    assert "warning: asking for a trial failed (database gone); retrying" in capsys.readouterr().out


def test_idle_until_the_heartbeat_grace_has_passed_then_the_worker_ends(tmp_path, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(sweep.time, "time", lambda: now[0])
    w, sleeps, outcomes, _ = runner(tmp_path, monkeypatch, [("idle", None)] * 100)
    monkeypatch.setattr(sweep.time, "sleep", lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s)))
    assert sweep.Worker.run(w) == 0
    assert outcomes == ["idle"]
    # idle_limit = grace + 2 × interval = 150 s, polled every min(5, interval) s.
    assert set(sleeps) == {5} and 1150 < now[0] <= 1155


def test_a_trial_to_run_resets_the_idle_clock(tmp_path, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(sweep.time, "time", lambda: now[0])
    w, _, outcomes, runs = runner(tmp_path, monkeypatch, [("idle", None)] * 20 + [("run", ("t0", {}))] + [("idle", None)] * 40)
    monkeypatch.setattr(sweep.time, "sleep", lambda s: now.__setitem__(0, now[0] + s))
    assert sweep.Worker.run(w) == 0
    assert runs == [("t0", {}, 0)]
    assert outcomes == ["idle"] and now[0] > 1000 + 100 + 150
