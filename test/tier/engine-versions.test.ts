/**
 * The cluster tier runs the engines the platform deploys, at their pinned versions — or, where a
 * registry does not serve that version, at the nearest one, with the reason written down
 * (test/cluster/engines.ts ENGINE_PINS). Runs in `npm test` (no engine is built here).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { VERSIONS } from '../../src/core';
import { ENGINE_PINS } from '../cluster/engines';

const CLUSTER = join(__dirname, '..', 'cluster');
const goVersion = (engine: string) => /^require (\S+) (\S+)$/m.exec(readFileSync(join(CLUSTER, 'engines', engine, 'go.mod'), 'utf8'))![2];
const pyVersion = (pkg: string) => new RegExp(`^${pkg}(?:\\[[^\\]]*\\])?==(\\S+)$`, 'm').exec(readFileSync(join(CLUSTER, 'python-requirements.txt'), 'utf8'))![1];
const imageTag = (image: string) => image.slice(image.lastIndexOf(':') + 1);

test('Kueue runs at the chart\'s appVersion', () => {
  expect(goVersion('kueue')).toBe(VERSIONS.charts.kueue.appVersion);
  expect(ENGINE_PINS.kueue.runs).toBe(goVersion('kueue'));
});

test('the Argo Workflows controller runs at the next patch of the chart\'s appVersion, for the reason given', () => {
  expect(VERSIONS.charts.argoWorkflows.appVersion).toBe('v4.0.6');
  expect(goVersion('argo')).toBe('v4.0.7');
  expect(ENGINE_PINS.argo).toMatchObject({ runs: goVersion('argo'), why: expect.stringContaining('v4.0.6') });
});

test('Optuna runs at the pinned image\'s version', () => {
  expect(`v${pyVersion('optuna')}`).toBe(imageTag(VERSIONS.images.optuna).split('-')[0]);
});

test('MLflow runs at the newest installable release before the pinned image\'s, for the reason given', () => {
  expect(imageTag(VERSIONS.images.mlflow)).toBe('v3.18.0-full');
  expect(pyVersion('mlflow')).toBe('3.17.2');
  expect(ENGINE_PINS.mlflow).toMatchObject({ runs: pyVersion('mlflow'), why: expect.stringContaining('mlflow-tracing==3.18.0') });
});

test('SeaweedFS runs from the pseudo-version the module proxy serves, for the reason given', () => {
  expect(imageTag(VERSIONS.images.objectStore)).toBe('4.00');
  expect(ENGINE_PINS.seaweedfs.runs).toContain(goVersion('seaweedfs'));
  expect(ENGINE_PINS.seaweedfs.why).toMatch(/not semver/);
});

test('the control plane is a current Kubernetes release, etcd and kwok releases, never a floating version', () => {
  for (const e of ['kubernetes', 'etcd', 'kwok']) expect(goVersion(e)).toMatch(/^v\d+\.\d+\.\d+$/);
});
