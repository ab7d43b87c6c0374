/**
 * A real Kubernetes control plane on loopback, from binaries built from the engines' own modules
 * (build-engines.sh): etcd, kube-apiserver (TLS, client-certificate and ServiceAccount-token
 * authentication, RBAC and Node authorization, the NodeRestriction and PodSecurity admission plugins
 * with "restricted" as the cluster default), kube-controller-manager (Jobs, ReplicaSets, ServiceAccount
 * tokens, garbage collection …) and kube-scheduler. Nodes come from kwok (see nodes.ts); there is no
 * kubelet and no container runtime.
 */
import { ChildProcess, spawn } from 'child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { join } from 'path';
import { ensureEngines, Engine, EngineName } from './engines';
import { FatalError, Kube } from './kube';
import { makePki, Pki, writeKubeconfig } from './pki';

/** A running process of the tier, with its log file. */
export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
}

/** What {@link startControlPlane} returns. */
export interface ControlPlane {
  readonly dir: string;
  readonly server: string;
  readonly pki: Pki;
  /** kubeconfig files per client identity (`admin`, `controller-manager`, `scheduler`). */
  readonly kubeconfigs: Readonly<Record<string, string>>;
  /** An admin client (group system:masters). */
  readonly admin: Kube;
  readonly engines: Readonly<Partial<Record<EngineName, Engine>>>;
  readonly procs: Proc[];
  /** Starts one more process of the tier (stopped with the rest). */
  start(name: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Proc;
  /** The last `lines` lines of a process's log. */
  tail(name: string, lines?: number): string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  readonly dir: string;
  /** Engines to build besides the control plane's own (e.g. kwok, kueue, argo). */
  readonly extraEngines?: readonly EngineName[];
}

/** Starts etcd, the API server, the controller manager and the scheduler; resolves when the API server is ready. */
export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  mkdirSync(o.dir, { recursive: true });
  const engines = ensureEngines(['etcd', 'kubernetes', ...(o.extraEngines ?? [])]);
  const pki = makePki(join(o.dir, 'pki'), {
    'admin': { user: 'mlplatform-admin', groups: ['system:masters'] },
    'controller-manager': { user: 'system:kube-controller-manager' },
    'scheduler': { user: 'system:kube-scheduler' },
  });
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigs: Record<string, string> = {};
  for (const name of Object.keys(pki.clients)) {
    kubeconfigs[name] = writeKubeconfig(join(o.dir, `${name}.kubeconfig`), server, pki.caCert, pki.clients[name]);
  }
  const procs: Proc[] = [];
  const start = (name: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Proc => {
    const log = join(o.dir, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? { PATH: process.env.PATH, HOME: o.dir }, detached: true });
    closeSync(fd);
    const p = { name, child, log };
    procs.push(p);
    return p;
  };
  const tail = (name: string, lines = 12) => {
    const p = procs.find((x) => x.name === name);
    if (!p) return `(no process ${name})`;
    // The last lines, each cut to 400 characters (controllers log whole configurations on one line).
    return readFileSync(p.log, 'utf8').split('\n').slice(-lines).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l)).join('\n');
  };
  const stop = async () => {
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        try {
          process.kill(-p.child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    const deadline = Date.now() + 10_000;
    for (const p of procs) {
      while (p.child.exitCode === null && p.child.signalCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      if (p.child.exitCode === null && p.child.signalCode === null) {
        try {
          process.kill(-p.child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    admin.close();
  };

  const k8s = engines.kubernetes.bin;
  // etcd: one member on loopback; fsync off (a test's data need not survive a crash).
  start('etcd', join(engines.etcd.bin, 'etcd'), [
    '--name=test', `--data-dir=${join(o.dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`, `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=test=http://127.0.0.1:${peerPort}`, '--unsafe-no-fsync', '--log-level=warn',
  ]);

  // Pod Security "restricted" is the cluster's default for every namespace but kube-system, so a
  // namespace the library forgets to label is still checked.
  const admission = join(o.dir, 'admission.yaml');
  writeFileSync(admission, JSON.stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [{
      name: 'PodSecurity',
      configuration: {
        apiVersion: 'pod-security.admission.config.k8s.io/v1',
        kind: 'PodSecurityConfiguration',
        defaults: { 'enforce': 'restricted', 'enforce-version': 'latest', 'audit': 'restricted', 'warn': 'restricted' },
        exemptions: { namespaces: ['kube-system'], usernames: [], runtimeClasses: [] },
      },
    }],
  }));
  start('kube-apiserver', join(k8s, 'kube-apiserver'), [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
    `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`,
    `--cert-dir=${join(o.dir, 'apiserver-certs')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
    '--api-audiences=https://kubernetes.default.svc.cluster.local',
    '--service-cluster-ip-range=10.96.0.0/16',
    // Loopback cannot be the kubernetes Service's endpoint; nothing in the tier reaches the API through that Service.
    '--endpoint-reconciler-type=none',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction,PodSecurity',
    `--admission-control-config-file=${admission}`,
    '--profiling=false', '--v=1',
  ]);
  const admin = new Kube({ server, ca: pki.caCert, cert: pki.clients.admin.cert, key: pki.clients.admin.key });
  const plane: ControlPlane = { dir: o.dir, server, pki, kubeconfigs, admin, engines, procs, start, tail, stop };
  try {
    await admin.waitFor('kube-apiserver /readyz', async () => {
      for (const p of procs) if (p.child.exitCode !== null) throw new FatalError(`${p.name} exited: ${tail(p.name)}`);
      return (await admin.request('GET', '/readyz')) === 'ok' ? true : undefined;
    }, 120_000, 300);
    start('kube-controller-manager', join(k8s, 'kube-controller-manager'), [
      `--kubeconfig=${kubeconfigs['controller-manager']}`,
      `--authentication-kubeconfig=${kubeconfigs['controller-manager']}`,
      `--authorization-kubeconfig=${kubeconfigs['controller-manager']}`,
      '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`, `--cert-dir=${join(o.dir, 'cm-certs')}`,
      '--leader-elect=false', '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
      '--concurrent-job-syncs=10', '--v=1',
    ]);
    start('kube-scheduler', join(k8s, 'kube-scheduler'), [
      `--kubeconfig=${kubeconfigs.scheduler}`,
      `--authentication-kubeconfig=${kubeconfigs.scheduler}`, `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
      '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`, `--cert-dir=${join(o.dir, 'sched-certs')}`,
      '--leader-elect=false', '--v=1',
    ]);
    // The default namespace's ServiceAccount appears when the controller manager runs.
    await admin.waitFor('the default ServiceAccount (controller manager running)', async () => {
      for (const p of procs) if (p.child.exitCode !== null) throw new FatalError(`${p.name} exited: ${tail(p.name)}`);
      return (await admin.get('v1', 'ServiceAccount', 'default', 'default')) ? true : undefined;
    }, 120_000, 300);
  } catch (e) {
    await stop();
    throw e;
  }
  return plane;
}
