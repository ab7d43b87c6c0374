/**
 * Sweeps at scale on the pinned Optuna (4.9.0, the engines' virtualenv; SQLAlchemy 2): the scenario of
 * test/engine/optuna-sweep-scale.test.ts (which runs Debian's Optuna 3.1 in `npm test`) with 90
 * workers, close to what a server with max_connections = 100 admits (90 + 2 for the study-creation
 * Job ≤ 100 − 3 superuser slots). No control plane: the pods run as local processes.
 */
import { join } from 'path';
import { ensureEngines } from './engines';
import { runScaleScenario, ScaleResult } from '../engine/fixtures/sweep/scale';

const WORKERS = 90;
const TRIALS = 180;
let result: ScaleResult;

beforeAll(async () => {
  const { python } = ensureEngines(['python'], { waitMs: 120_000 });
  result = await runScaleScenario({ python: join(python.bin, 'python'), workers: WORKERS, trials: TRIALS });
  console.log(`sweep scale (Optuna ${python.version}): ${WORKERS} workers, ${TRIALS} trials in ${result.seconds.toFixed(1)} s; peak ${result.peakSweepConnections} ` +
    `sweep connections (${result.peakAllConnections} client backends), ${result.sweepConnectionsOpened} opened; states ${JSON.stringify(result.states)}`);
}, 600_000);

test('90 workers on max_connections = 100: exactly maxTrials finished, zero connection errors, within the counted connections', () => {
  expect(result.maxConnections).toBe('100');
  expect((result.states.COMPLETE ?? 0) + (result.states.PRUNED ?? 0)).toBe(TRIALS);
  expect(result.states.RUNNING ?? 0).toBe(0);
  expect(result.duplicates).toBe(0);
  expect(result.createExit).toEqual({ code: 0, signal: null });
  expect(result.exits.filter((e) => Object.values(e).some((x) => x.code !== 0 || x.signal !== null))).toEqual([]);
  expect(result.connectionErrors).toEqual([]);
  expect(result.workerComplaints).toEqual([]);
  expect(result.sweep.databaseConnections).toBe(WORKERS + 2);
  expect(result.peakSweepConnections).toBeLessThanOrEqual(result.sweep.databaseConnections);
  expect(result.peakAllConnections).toBeLessThan(100);
  expect(result.sweepConnectionsOpened / WORKERS).toBeLessThan(20);
});
