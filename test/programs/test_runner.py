"""runner.sh, the trial container's main process, run by dash and bash with a temporary SWEEP_DIR, with this
test as the Optuna worker: the handshake through files (runner.alive, driver.alive, trials/<n>/run.sh, go,
stop, exit, exit.ok, done), and that the runner always ends: when told, when the worker falls silent, on
SIGTERM, and by SIGKILL of a trial that ignores SIGTERM."""
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import PROGRAMS

RUNNER = os.path.join(PROGRAMS, "runner.sh")
SHELLS = [s for s in (shutil.which("dash"), shutil.which("bash"), shutil.which("busybox") and shutil.which("busybox") + " sh") if s]


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Driver:
    """The Optuna worker's side of the handshake, with a heartbeat thread."""

    def __init__(self, shell, folder, env=None, beat=True):
        self.dir, self.n = str(folder), 0
        self.stop_beating = threading.Event()
        if beat:
            threading.Thread(target=self.beat, daemon=True).start()
        self.proc = subprocess.Popen(shell.split() + [RUNNER], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=dict({"PATH": "/usr/bin:/bin", "SWEEP_DIR": self.dir}, **(env or {})))
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "runner.alive")), what="runner.alive")

    def beat(self):
        n = 0
        while not self.stop_beating.is_set():
            n += 1
            with open(os.path.join(self.dir, "driver.alive.tmp"), "w") as f:
                f.write("%d\n" % n)
            os.replace(os.path.join(self.dir, "driver.alive.tmp"), os.path.join(self.dir, "driver.alive"))
            self.stop_beating.wait(0.1)

    def trial(self, script):
        """Hands over trial n (run.sh, then go); returns its folder."""
        t = os.path.join(self.dir, "trials", str(self.n))
        os.makedirs(t)
        with open(os.path.join(t, "run.sh"), "w") as f:
            f.write(script)
        open(os.path.join(t, "go"), "w").close()
        self.n += 1
        return t

    def result(self, t, timeout=10):
        wait_for(lambda: os.path.exists(os.path.join(t, "exit.ok")), timeout, "exit.ok of " + t)
        with open(os.path.join(t, "exit")) as f, open(os.path.join(t, "output")) as o:
            return int(f.read()), o.read()

    def end(self, timeout=10):
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        finally:
            self.stop_beating.set()
        return self.proc.returncode, out

    def kill(self):
        self.stop_beating.set()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture(params=SHELLS, ids=lambda s: os.path.basename(s).replace(" ", "-"))
def driver(request, tmp_path):
    started = []

    def start(**kw):
        d = Driver(request.param, tmp_path, **kw)
        started.append(d)
        return d
    yield start
    for d in started:
        d.kill()


def test_dash_and_bash_are_here():
    assert any(s.endswith("dash") for s in SHELLS) and any(s.endswith("bash") for s in SHELLS)


def test_trials_run_in_order_with_their_output_and_exit_code_then_done_ends_the_runner(driver):
    d = driver()
    first = d.trial('echo "hello $SWEEP_DIR"\necho oops >&2\nexit 7\n')
    assert d.result(first) == (7, "hello %s\noops\n" % d.dir)
    second = d.trial("exec true\n")
    assert d.result(second) == (0, "")
    with open(os.path.join(d.dir, "done"), "w") as f:
        f.write("done\n")
    code, out = d.end()
    assert code == 0
    assert out.splitlines() == ["[runner] ready in %s" % d.dir, "[runner] the Optuna worker finished (done)"]


def test_the_runner_beats_while_a_trial_runs(driver):
    d = driver()
    t = d.trial("sleep 0.6\n")
    alive = os.path.join(d.dir, "runner.alive")
    seen = set()
    while not os.path.exists(os.path.join(t, "exit.ok")):
        with open(alive) as f:
            seen.add(f.read())
        time.sleep(0.05)
    assert len(seen) >= 2


def test_a_stop_file_ends_the_trial_with_sigterm(driver):
    d = driver()
    t = d.trial("exec sleep 30\n")
    time.sleep(0.3)
    with open(os.path.join(t, "stop"), "w") as f:
        f.write("pruned\n")
    started = time.monotonic()
    assert d.result(t)[0] == 128 + signal.SIGTERM
    assert time.monotonic() - started < 3
    with open(os.path.join(d.dir, "done"), "w") as f:
        f.write("done\n")
    code, out = d.end()
    assert code == 0 and "[runner] stopping trial 0" in out


def test_a_trial_that_ignores_sigterm_is_killed_after_the_grace(driver):
    d = driver(env={"SWEEP_KILL_GRACE": "1"})
    t = d.trial("trap '' TERM\nwhile :; do sleep 0.1; done\n")
    time.sleep(0.3)
    open(os.path.join(t, "stop"), "w").close()
    started = time.monotonic()
    code, _ = d.result(t)
    assert code == 128 + signal.SIGKILL
    assert 0.9 < time.monotonic() - started < 5


def test_a_silent_worker_ends_the_runner_with_exit_1(driver):
    d = driver(env={"SWEEP_PEER_TIMEOUT": "1"}, beat=False)
    code, out = d.end()
    assert code == 1
    assert "[runner] the Optuna worker stopped answering for 1 s; exiting" in out


def test_a_silent_worker_stops_the_running_trial_too(driver):
    d = driver(env={"SWEEP_PEER_TIMEOUT": "1"})
    t = d.trial("exec sleep 30\n")
    time.sleep(0.3)
    d.stop_beating.set()
    assert d.result(t)[0] == 128 + signal.SIGTERM
    code, out = d.end()
    assert code == 1 and "[runner] stopping trial 0" in out


def test_sigterm_between_trials_exits_143(driver):
    d = driver()
    d.proc.send_signal(signal.SIGTERM)
    code, out = d.end()
    assert code == 143 and out.endswith("[runner] terminated\n")


def test_sigterm_during_a_trial_stops_it_first_and_reports_its_exit(driver):
    d = driver()
    t = d.trial("exec sleep 30\n")
    time.sleep(0.3)
    d.proc.send_signal(signal.SIGTERM)
    assert d.result(t)[0] == 128 + signal.SIGTERM
    # The worker learns the trial ended because the pod is stopping, even before its own SIGTERM lands.
    assert os.path.exists(os.path.join(t, "terminated"))
    code, out = d.end()
    assert code == 143
    assert "[runner] stopping trial 0" in out and out.endswith("[runner] terminated\n")


def test_a_trial_stopped_for_another_reason_is_not_marked_terminated(driver):
    d = driver()
    t = d.trial("exec sleep 30\n")
    time.sleep(0.3)
    open(os.path.join(t, "stop"), "w").close()
    assert d.result(t)[0] == 128 + signal.SIGTERM
    assert not os.path.exists(os.path.join(t, "terminated"))


def test_a_trial_handed_over_after_sigterm_is_not_started(driver):
    d = driver()
    d.proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    t = d.trial("echo started > started\n")
    code, out = d.end()
    assert code == 143 and "stopping trial" not in out
    assert not os.path.exists(os.path.join(t, "exit.ok"))
