#!/bin/sh
# mlplatform sweep runner: the trial container's main process. It runs each trial the Optuna worker
# (container "optuna") hands over in $SWEEP_DIR/trials/<n>/ and reports its exit code. It needs
# only a POSIX shell and sleep (no other program), and it always ends: when the worker writes
# $SWEEP_DIR/done, when the worker stops updating $SWEEP_DIR/driver.alive, or on SIGTERM (then it
# stops the trial first).
D="$SWEEP_DIR"; [ -n "$D" ] || D=/sweep
PEER_TIMEOUT="$SWEEP_PEER_TIMEOUT"; [ -n "$PEER_TIMEOUT" ] || PEER_TIMEOUT=120
GRACE="$SWEEP_KILL_GRACE"; [ -n "$GRACE" ] || GRACE=30
# Poll five times a second where sleep takes fractions (GNU, busybox), else once a second (POSIX).
if sleep 0.2 2>/dev/null; then HZ=5; else HZ=1; fi
nap() { if [ "$HZ" = 5 ]; then sleep 0.2; else sleep 1; fi; }
n=0
beat=0
last=""
stale=0
pid=""
term=0

say() { echo "[runner] $*"; }
tick() { beat=$((beat + 1)); echo "$beat" > "$D/runner.alive"; }
driver_alive() {
  hb=""
  [ -f "$D/driver.alive" ] && read -r hb < "$D/driver.alive"
  if [ "$hb" != "$last" ]; then last="$hb"; stale=0; else stale=$((stale + 1)); fi
  [ "$stale" -lt $((PEER_TIMEOUT * HZ)) ]
}
# Signals the trial (15 TERM, 9 KILL; numbers, which dash, bash and busybox all accept): as the
# container's PID 1, every other process of the container (the trial and anything it started);
# otherwise (a local run) the trial process itself.
signal_trial() {
  if [ "$$" = 1 ]; then kill "-$1" -1 2>/dev/null; else kill "-$1" "$pid" 2>/dev/null; fi
}
on_term() { term=1; }
trap on_term TERM INT

run_trial() {
  t="$D/trials/$1"
  /bin/sh "$t/run.sh" > "$t/output" 2>&1 &
  pid=$!
  stopping=0
  waited=0
  while kill -0 "$pid" 2>/dev/null; do
    tick
    if [ "$stopping" = 0 ]; then
      if [ -f "$t/stop" ] || [ "$term" = 1 ] || ! driver_alive; then
        # Tell the worker the trial ended because the pod is stopping (it hands the trial back).
        [ "$term" = 1 ] && : > "$t/terminated"
        say "stopping trial $1"
        signal_trial 15
        stopping=1
      fi
    else
      waited=$((waited + 1))
      [ "$waited" -ge $((GRACE * HZ)) ] && signal_trial 9
    fi
    nap
  done
  wait "$pid"
  rc=$?
  echo "$rc" > "$t/exit"
  : > "$t/exit.ok"
  pid=""
}

say "ready in $D"
while :; do
  tick
  # SIGTERM first: a trial handed over after it is not started (128 + 15: ended by SIGTERM).
  [ "$term" = 1 ] && { say "terminated"; exit 143; }
  if [ -f "$D/trials/$n/go" ]; then
    run_trial "$n"
    n=$((n + 1))
    continue
  fi
  if [ -f "$D/done" ]; then read -r outcome < "$D/done"; say "the Optuna worker finished ($outcome)"; exit 0; fi
  driver_alive || { say "the Optuna worker stopped answering for $PEER_TIMEOUT s; exiting"; exit 1; }
  nap
done
