/**
 * The add-ons' CustomResourceDefinitions, installed from the pinned sources the project already
 * uses: ../shared/crds (SOURCES.md: Gateway API, KEDA, Prometheus Operator, Argo CD, Flux,
 * cert-manager, KServe, JobSet) and, for the two controllers the tier runs, their own modules at
 * the pinned versions (Kueue's `config/components/crd/bases`, Argo Workflows'
 * `manifests/base/crds/full`), so each controller finds every kind it watches.
 */
import { execFileSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { loadAll } from 'js-yaml';
import { Kube } from './kube';

/** Where ../shared/crds is (MLPLATFORM_SCHEMAS_DIR overrides, as for the unit tests). */
export function sharedCrdsDir(): string {
  const dir = process.env.MLPLATFORM_SCHEMAS_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'crds');
  if (!existsSync(dir)) throw new Error(`no CRD folder at ${dir}: set MLPLATFORM_SCHEMAS_DIR to the shared/crds folder`);
  return dir;
}

/** The folder of module `mod` as the engine module under engines/<engine> resolves it. */
export function moduleDir(engine: string, mod: string): string {
  return execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', mod], { cwd: join(__dirname, 'engines', engine), encoding: 'utf8' }).trim();
}

/**
 * The shared folders whose CRDs the tier installs: the add-ons' kinds the library emits, including the
 * optional outputs (Katib Experiment, PyTorchJob, TrainJob, JobSet, KServe). Katib's CRDs carry no
 * schema (x-kubernetes-preserve-unknown-fields), so the server checks little of an Experiment.
 */
const SHARED = ['gateway-api', 'keda', 'prometheus-operator', 'argo-cd', 'flux', 'cert-manager', 'kserve', 'jobset',
  'katib', 'kubeflow-training-operator', 'kubeflow-trainer'];

function crdsIn(dir: string): any[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort()
    .flatMap((f) => loadAll(readFileSync(join(dir, f), 'utf8')) as any[])
    .filter((d) => d?.kind === 'CustomResourceDefinition' && d.apiVersion === 'apiextensions.k8s.io/v1');
}

/** Every CRD the tier installs. */
export function tierCrds(): any[] {
  const shared = sharedCrdsDir();
  return [
    ...SHARED.flatMap((d) => crdsIn(join(shared, d))),
    ...crdsIn(join(moduleDir('kueue', 'sigs.k8s.io/kueue'), 'config', 'components', 'crd', 'bases')),
    ...crdsIn(join(moduleDir('argo', 'github.com/argoproj/argo-workflows/v4'), 'manifests', 'base', 'crds', 'full')),
  ];
}

/** Creates the CRDs and waits until every one is Established; discovery is refreshed. */
export async function installCrds(kube: Kube, crds: readonly any[] = tierCrds()): Promise<string[]> {
  // Created in parallel with POST: server-side apply of the big schemas (Argo's full CRDs) costs seconds each.
  await Promise.all(crds.map((crd) => kube.create(crd)));
  // Each CRD is polled alone until Established (listing all of them, with their big schemas, every poll costs seconds).
  // The API server establishes them one after another: ≈ 20 s for the 50 here on an idle 2-core machine, more under load.
  const pending = new Set(crds.map((c) => c.metadata.name as string));
  await kube.waitFor('every CRD Established', async () => {
    await Promise.all([...pending].map(async (name) => {
      const c = await kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, name);
      if (c?.status?.conditions?.some((x: any) => x.type === 'Established' && x.status === 'True')) pending.delete(name);
    }));
    return pending.size === 0 ? true : undefined;
  }, 180_000, 250);
  kube.resetDiscovery();
  return crds.map((c) => c.metadata.name);
}
