/**
 * Sweeps at scale (issue #21 item 6): 50 workers of one synthesized sweep against a real
 * PostgreSQL 15 with `max_connections = 100` (PostgreSQL's default), with Debian's Optuna (the
 * pinned 4.9.0 runs the same scenario in the cluster tier, test/cluster/sweep-scale.test.ts). Each
 * worker holds one connection (src/programs/sweep_lib.py, pool_size 1 without overflow); before,
 * each storage call opened its own and a worker held up to three at once (main thread, heartbeat
 * thread, study lock), so 50 workers could ask for 150 connections and were refused with
 * "sorry, too many clients already". Never skipped: a missing Optuna or PostgreSQL fails it.
 */
import { runScaleScenario, ScaleResult } from './fixtures/sweep/scale';

const PYTHON = '/usr/bin/python3';
const WORKERS = 50;
const TRIALS = 100;

let result: ScaleResult;

beforeAll(async () => {
  result = await runScaleScenario({ python: PYTHON, workers: WORKERS, trials: TRIALS });
  // Measured numbers, for the report and the README's time table.
  console.log(`sweep scale: ${WORKERS} workers, ${TRIALS} trials in ${result.seconds.toFixed(1)} s; peak ${result.peakSweepConnections} sweep connections ` +
    `(${result.peakAllConnections} client backends in all), ${result.sweepConnectionsOpened} opened; states ${JSON.stringify(result.states)}`);
}, 600_000);

test('the server is the one the proof names: max_connections = 100', () => {
  expect(result.maxConnections).toBe('100');
});

test('exactly maxTrials trials finished, none left running, none handed out twice', () => {
  const finished = (result.states.COMPLETE ?? 0) + (result.states.PRUNED ?? 0);
  expect(finished).toBe(TRIALS);
  expect(result.states.RUNNING ?? 0).toBe(0);
  expect(result.states.WAITING ?? 0).toBe(0);
  expect(result.duplicates).toBe(0);
});

test('every pod ended cleanly: the creation Job, each worker and its runner', () => {
  expect(result.createExit).toEqual({ code: 0, signal: null });
  const ok = { code: 0, signal: null };
  const bad = result.exits.map((e, i) => ({ i, e })).filter(({ e }) => Object.values(e).some((x) => x.code !== ok.code || x.signal !== ok.signal));
  expect(bad).toEqual([]);
});

test('zero connection errors: the server refused nothing and no worker complained', () => {
  expect(result.connectionErrors).toEqual([]);
  expect(result.workerComplaints).toEqual([]);
});

test('the sweep held at most what the synth-time check counted (one per worker + two for the creation Job), within the server', () => {
  expect(result.sweep.databaseConnections).toBe(WORKERS + 2);
  expect(result.peakSweepConnections).toBeGreaterThanOrEqual(WORKERS / 2); // the workers did run together
  expect(result.peakSweepConnections).toBeLessThanOrEqual(result.sweep.databaseConnections);
  expect(result.peakAllConnections).toBeLessThan(100);
  // A handful per worker over the whole sweep (a pod's wait probes, then one kept connection), not one per storage call.
  expect(result.sweepConnectionsOpened / WORKERS).toBeLessThan(20);
});
