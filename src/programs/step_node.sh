#!/bin/sh
# mlplatform node wrapper: the main process of a multi-node step's container. It runs the step's
# command ("$@", e.g. torchrun …), then writes its exit status to the FIFO $MLPLATFORM_NODE_EXIT,
# which the outputs container (step_io.py push) reads before it uploads the outputs. POSIX sh only.
#
# Opening a FIFO for writing waits for its reader. The descriptor is kept out of the command
# (3>&-), so the reader sees end of file as soon as this shell is gone, even when it is killed
# without writing a status. SIGTERM and SIGINT are passed on to the command (as PID 1, the shell
# would otherwise ignore them).
fifo="$MLPLATFORM_NODE_EXIT"
[ -n "$fifo" ] || { echo "[node] MLPLATFORM_NODE_EXIT is not set" >&2; exit 2; }
exec 3>"$fifo"
child=""
trap '[ -n "$child" ] && kill -s TERM "$child" 2>/dev/null' TERM
trap '[ -n "$child" ] && kill -s INT "$child" 2>/dev/null' INT
"$@" 3>&- &
child=$!
# `wait` returns early when a trapped signal arrives: wait again until the command is gone.
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break
done
echo "$rc" >&3
exec 3>&-
exit "$rc"
