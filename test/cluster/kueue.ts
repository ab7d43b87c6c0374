/**
 * Kueue's manager (built from sigs.k8s.io/kueue at the pinned version) against the tier's API server.
 *
 * Its Configuration is the one the installed chart would give it: the chart's default
 * `managerConfig.controllerManagerConfigYaml` (../shared/charts/kueue/values.yaml) with the values
 * the platform's Kueue add-on object carries merged over the chart's (Helm's rule: maps merge, the
 * rest replaces). Only where it runs changes — out of the cluster: no leader election, loopback
 * ports, webhook certificates from the tier's CA in a folder (`internalCertManagement.enable: false`),
 * and the webhook configurations of Kueue's module (`config/components/webhook`, with the
 * namespaceSelector its kustomization adds) pointing at that loopback server by URL instead of the
 * in-cluster Service.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { installedValues } from './charts';
import { ControlPlane, freePort } from './control-plane';
import { moduleDir } from './crds';
import { FatalError } from './kube';

/** The namespaceSelector Kueue's kustomization (config/components/webhook/kustomization.yaml) puts on its webhooks. */
const SYSTEM_NAMESPACES_EXCLUDED = {
  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kueue-system'] }],
};

/** The Kueue Configuration the installed chart would run with, given the platform's objects. */
export function kueueConfiguration(objects: readonly any[]): any {
  return parse(installedValues(objects, 'kueue').managerConfig.controllerManagerConfigYaml);
}

/** Starts Kueue for the platform whose synthesized objects are `objects`; resolves when its webhooks answer. */
export async function startKueue(plane: ControlPlane, objects: readonly any[]): Promise<any> {
  const kueue = plane.engines.kueue;
  if (!kueue) throw new Error('kueue is not among the built engines');
  const dir = join(plane.dir, 'kueue');
  const certDir = join(dir, 'certs');
  mkdirSync(certDir, { recursive: true });
  // The webhook server's certificate, signed by the tier's CA for 127.0.0.1.
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kueue-webhook', '-keyout', join(certDir, 'tls.key'),
    '-out', join(dir, 'tls.csr')], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', join(dir, 'tls.csr'), '-CA', plane.pki.caCert, '-CAkey', plane.pki.caKey,
    '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'san.ext'), '-out', join(certDir, 'tls.crt')], { stdio: 'ignore' });

  const [webhookPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const config = kueueConfiguration(objects);
  const run = {
    ...config,
    namespace: 'kueue-system',
    leaderElection: { ...config.leaderElection, leaderElect: false },
    health: { ...config.health, healthProbeBindAddress: `127.0.0.1:${healthPort}` },
    metrics: { ...config.metrics, bindAddress: `127.0.0.1:${metricsPort}` },
    webhook: { ...config.webhook, port: webhookPort, host: '127.0.0.1', certDir },
    internalCertManagement: { enable: false },
  };
  writeFileSync(join(dir, 'config.yaml'), stringify(run));

  await plane.admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kueue-system' } }, 'tier');
  const caBundle = readFileSync(plane.pki.caCert).toString('base64');
  const manifests = parseAllDocuments(readFileSync(join(moduleDir('kueue', 'sigs.k8s.io/kueue'), 'config', 'components', 'webhook', 'manifests.yaml'), 'utf8'))
    .map((d) => d.toJS()).filter((d) => d?.kind?.endsWith('WebhookConfiguration'));
  for (const m of manifests) {
    m.metadata.name = `kueue-${m.metadata.name}`;
    for (const w of m.webhooks) {
      w.clientConfig = { url: `https://127.0.0.1:${webhookPort}${w.clientConfig.service.path}`, caBundle };
      if (/^[mv](appwrapper|deployment|jaxjob|job|jobset|leaderworkerset|mpijob|paddlejob|pod|pytorchjob|raycluster|rayjob|rayservice|sparkapplication|statefulset|tfjob|trainjob|xgboostjob)\.kb\.io$/.test(w.name)) {
        w.namespaceSelector = SYSTEM_NAMESPACES_EXCLUDED;
      }
    }
  }
  // Without internal certificate management, Kueue reads its metrics certificate from a fixed path
  // (cmd/kueue/main.go: "/etc/kueue/metrics/certs"), where the chart mounts a Secret. Kueue runs in a
  // private mount namespace with a tmpfs there holding the tier's certificate (nothing on the host
  // changes but the empty mount point /etc/kueue). The on-demand visibility API server (an aggregated
  // API for listing pending workloads, not part of admission) is off: it authenticates its callers
  // through the in-cluster ServiceAccount, which a process outside the cluster does not have.
  mkdirSync('/etc/kueue', { recursive: true });
  plane.start('kueue', 'unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c',
    'mount -t tmpfs tmpfs /etc/kueue && mkdir -p /etc/kueue/metrics/certs && cp "$1"/tls.crt "$1"/tls.key /etc/kueue/metrics/certs/ && ' +
    'exec "$2" --config="$3" --zap-log-level=2 --feature-gates=VisibilityOnDemand=false',
    'sh', certDir, join(kueue.bin, 'kueue'), join(dir, 'config.yaml')],
  { PATH: process.env.PATH, HOME: dir, KUBECONFIG: plane.kubeconfigs.admin, POD_NAMESPACE: 'kueue-system' });
  await plane.admin.waitFor('Kueue ready (healthz)', async () => {
    const p = plane.procs.find((x) => x.name === 'kueue')!;
    if (p.child.exitCode !== null) throw new FatalError(`kueue exited: ${plane.tail('kueue')}`);
    const r = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
    return r?.ok ? true : undefined;
  }, 90_000, 500);
  for (const m of manifests) await plane.admin.apply(m, 'tier');
  return run;
}
