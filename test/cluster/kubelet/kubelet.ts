/**
 * A kubelet for one machine without a container runtime: runs the containers of synthesized pods as
 * local processes, each in its own mount, PID and UTS namespaces (launcher.py), on the host's
 * network (Services are reached at 127.0.0.1: /etc/hosts maps every Service's DNS names there).
 *
 * What it does as the kubelet does (k8s.io/kubernetes@v1.37.2, cited in the modules it uses):
 * admission of the service-account token (pod.ts), volumes with the kubelet's owners and modes
 * (rules.ts, written here), identity (rules.ts), environment, command and args (env.ts), mounts
 * read-only as the kubelet decides, subPath (resolved inside the volume, as root, then bind-mounted),
 * init containers one after the other before the containers, restart policy with the kubelet's
 * crash-loop back-off (10 s doubling to 300 s, pkg/kubelet/kubelet.go `backOffPeriod` /
 * `MaxContainerBackOff`), a container that cannot be configured yet (a Secret not written yet:
 * CreateContainerConfigError, a volume that cannot be set up: FailedMount) retried, probes
 * (httpGet, tcpSocket, exec — exec runs in the container's namespaces as its user), SIGTERM then
 * SIGKILL after the grace period on stop.
 *
 * What it cannot do: isolate the network (no CNI: every pod shares the loopback, so a Service's port
 * must equal its target container port, and NetworkPolicies are not enforced), enforce resources
 * (no cgroups), run the images themselves (images.ts: stand-ins), sizeLimit, SELinux/seccomp/AppArmor,
 * tmpfs for API-data volumes (they are folders with tmpfs's root mode instead).
 */
import { ChildProcess, spawn } from 'child_process';
import { appendFileSync, chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'fs';
import * as http from 'http';
import * as net from 'net';
import { isAbsolute, join, relative } from 'path';
import { processSpec, resourceValue } from './env';
import { ImageStandIn, imageFor } from './images';
import { PodInstance, TokenIssuer, admit, containerMounts, podFromWorkload, prepareVolumes } from './pod';
import { ContainerConfigError, FsNode, Identity, VolumeLayout, effectiveIdentity } from './rules';
import { KubeObject, ObjectSource } from './source';

const LAUNCHER = join(__dirname, 'launcher.py');
const NETNS = join(__dirname, 'netns.py');
const BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 300_000;
/** How often a pod that cannot be configured yet is retried (the kubelet backs off from 0.5 s to 2 min; shorter here). */
const CONFIG_RETRY_MS = 2_000;

/** The API server the pods are told about (KUBERNETES_SERVICE_HOST/PORT) and that issues their tokens. */
export interface ApiServer extends TokenIssuer {
  readonly host: string;
  readonly port: number;
}

/** Options of a {@link Kubelet}. */
export interface KubeletOptions {
  readonly source: ObjectSource;
  /** The node's folder (pods' volumes, claims); created, and removed by `stop()`. */
  readonly dir: string;
  readonly apiServer?: ApiServer;
  /** Upper bound on a pod's termination grace period when the harness stops it. @default 10 s */
  readonly maxGraceMs?: number;
  /**
   * Image stand-ins that replace images.ts's for this node (e.g. the engine tier's: Debian's Python
   * with its Optuna, where the cluster tier uses the pinned virtualenv).
   * @default images.ts's table only
   */
  readonly images?: Readonly<Record<string, () => ImageStandIn>>;
  /**
   * An isolated network: the node's pods share a network namespace of their own (netns.py) instead of
   * the host's, so their Services' ports never collide with the host's or another test's. `forward`
   * maps a port inside it (a Service's, e.g. 5432) to a port on the host's loopback (a server the test
   * started there, e.g. a PostgreSQL on a random port). Probes over the network (httpGet, tcpSocket)
   * are not supported then (exec probes are).
   * @default the host's network
   */
  readonly network?: { readonly forward: Readonly<Record<number, number>> };
  /**
   * Names outside the cluster (an external database's host) that the node's DNS resolves to the
   * loopback, where the test's server listens (or, on an isolated network, where `forward` relays).
   * @default none
   */
  readonly hosts?: readonly string[];
}

/** How a container process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A container's state, as `kubectl get pod -o yaml` would show it. */
export interface ContainerStatus {
  state: 'waiting' | 'running' | 'terminated';
  reason?: string;
  message?: string;
  restarts: number;
  readonly exits: Exit[];
  identity?: Identity;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A pod's phase (core/v1 `PodPhase`). */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** A pod condition (core/v1 `PodCondition`), as far as Jobs' pod failure policies read them. */
export interface PodCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
}

/** Runs pods. */
export class Kubelet {
  public readonly pods: RunningPod[] = [];
  private net?: { readonly child: ChildProcess; readonly ready: Promise<void>; readonly servers: net.Server[] };

  constructor(public readonly o: KubeletOptions) {
    mkdirSync(join(o.dir, 'claims'), { recursive: true, mode: 0o700 });
    mkdirSync(join(o.dir, 'pods'), { recursive: true, mode: 0o700 });
    if (o.network) this.net = startNetwork(join(o.dir, 'net'), o.network.forward);
  }

  /** The stand-in of `image` (this node's own table first). */
  public image(image: string): ImageStandIn {
    const own = this.o.images?.[image];
    return own ? own() : imageFor(image);
  }

  /** The pid holding the node's network namespace (undefined: the host's network), once it is up. */
  public async networkPid(): Promise<number | undefined> {
    if (!this.net) return undefined;
    await this.net.ready;
    return this.net.child.pid;
  }

  /**
   * Starts the pod of `workload` (a StatefulSet's pod `ordinal`) and returns at once; its containers
   * come up in the background. `initOnly`: run the init containers only, for a pod whose app
   * containers' images have no stand-in (images.ts), e.g. a model server after its fetch step.
   */
  public run(workload: KubeObject, opts: { ordinal?: number; name?: string; initOnly?: boolean } = {}): RunningPod {
    const pod = new RunningPod(this, podFromWorkload(workload, opts), { initOnly: opts.initOnly === true });
    this.pods.push(pod);
    pod.start();
    return pod;
  }

  /** Stops every pod and removes the node's folder. */
  public async stop(): Promise<void> {
    await Promise.all(this.pods.map((p) => p.stop()));
    if (this.net) {
      this.net.child.kill('SIGKILL');
      for (const s of this.net.servers) s.close();
    }
    rmSync(this.o.dir, { recursive: true, force: true });
  }

  /** The folder of a claim (persists across pods until `stop()`). */
  public claimDir(claim: string): string {
    return join(this.o.dir, 'claims', claim);
  }
}

/** One pod of a {@link Kubelet}. */
export class RunningPod {
  public readonly events: string[] = [];
  public readonly status = new Map<string, ContainerStatus>();
  public admitted?: PodInstance;
  public volumes?: Map<string, VolumeLayout>;
  /**
   * The pod's phase as the kubelet reports it (pkg/kubelet/kubelet_pods.go `getPhase`): Pending until
   * its containers start, Succeeded when every container exited 0 and none restarts, Failed when one
   * ended otherwise under `restartPolicy: Never` (an init container's failure included) or when the pod
   * was deleted before it succeeded (its containers were killed).
   */
  public phase: PodPhase = 'Pending';
  /** Pod conditions beyond the phase (`DisruptionTarget` when evicted: pkg/kubelet/eviction, the Eviction API). */
  public readonly conditions: PodCondition[] = [];
  public readonly dir: string;
  private readonly logs = new Map<string, string>();
  private readonly procs = new Map<string, { child: ChildProcess; closed: Promise<Exit> }>();
  private stopping = false;
  private stopped?: Promise<void>;
  private loop?: Promise<void>;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly kubelet: Kubelet, public readonly pod: PodInstance, private readonly opts: { readonly initOnly?: boolean } = {}) {
    this.dir = join(kubelet.o.dir, 'pods', pod.name);
  }

  public get name(): string {
    return this.pod.name;
  }

  /** The pod's hostname: `spec.hostname`, else its name (pkg/kubelet/kubelet_pods.go `GeneratePodHostNameAndDomain`). */
  public get hostname(): string {
    return this.pod.spec.hostname || this.name.slice(0, 63);
  }

  /** Everything the container wrote to stdout and stderr, restarts included. */
  public log(container: string): string {
    return this.logs.get(container) ?? '';
  }

  public start(): void {
    this.loop = this.sync().catch((e) => {
      this.event(`harness error: ${e instanceof Error ? e.stack : String(e)}`);
      this.setPhase('Failed');
    });
  }

  /**
   * SIGTERM to every container, SIGKILL after the grace period, volumes removed. `graceMs: 0`: SIGKILL at
   * once, no SIGTERM (a node that vanished: its processes just stop).
   */
  public async stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.stopping) {
      await this.stopped;
      return;
    }
    this.stopping = true;
    this.wake();
    this.stopped = this.terminate(opts.graceMs);
    await this.stopped;
  }

  /**
   * The pod's node is lost: every process is killed at once (no SIGTERM), and the pod garbage
   * collector marks it `DisruptionTarget` (reason `DeletionByPodGC`, pkg/controller/podgc/gc_controller.go)
   * as it deletes it.
   */
  public async lose(): Promise<void> {
    this.conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
    this.event('node lost: killed (DeletionByPodGC)');
    await this.stop({ graceMs: 0 });
  }

  /**
   * Evicts the pod as the Eviction API or a preemption does: the `DisruptionTarget` condition
   * (pkg/apis/core `DisruptionTarget`, reason `EvictionByEvictionAPI`), then deletion — the containers
   * get SIGTERM and the pod ends Failed unless it had already succeeded.
   */
  public async evict(reason = 'EvictionByEvictionAPI'): Promise<void> {
    this.conditions.push({ type: 'DisruptionTarget', status: 'True', reason, message: 'Eviction API: evicting' });
    this.event(`Evicted (${reason})`);
    await this.stop();
  }

  /** Resolves when the pod has reached Succeeded or Failed. */
  public async waitFinished(timeoutMs: number): Promise<PodPhase> {
    await this.until(() => this.phase === 'Succeeded' || this.phase === 'Failed', timeoutMs, 'the pod to finish');
    return this.phase;
  }

  private async terminate(graceMs?: number): Promise<void> {
    const grace = graceMs ?? Math.min((this.admitted?.spec.terminationGracePeriodSeconds ?? 30) * 1000, this.kubelet.o.maxGraceMs ?? 10_000);
    await Promise.all([...this.procs.values()].map(async ({ child, closed }) => {
      const pid1 = containerPid(child);
      if (pid1 && grace > 0) {
        try {
          process.kill(pid1, 'SIGTERM');
        } catch {
          // gone
        }
      }
      // SIGKILL to the container's PID 1 (which ends its PID namespace): the parent-death signal of
      // `unshare --kill-child` does not survive setpriv's change of credentials.
      const timer = setTimeout(() => {
        try {
          if (pid1) process.kill(pid1, 'SIGKILL');
        } catch {
          // gone
        }
        child.kill('SIGKILL');
      }, grace);
      await closed;
      clearTimeout(timer);
    }));
    await this.loop;
    if (this.phase !== 'Succeeded') this.setPhase('Failed');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private setPhase(phase: PodPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.event(`phase ${phase}`);
  }

  /** Resolves when `container` has exited `count` times (or rejects after `timeoutMs`). */
  public async waitForExit(container: string, timeoutMs: number, count = 1): Promise<Exit> {
    await this.until(() => (this.status.get(container)?.exits.length ?? 0) >= count, timeoutMs, `${container} to exit`);
    return this.status.get(container)!.exits[count - 1];
  }

  /** Resolves when `container` is running (its process started). */
  public async waitRunning(container: string, timeoutMs: number): Promise<void> {
    await this.until(() => this.status.get(container)?.state === 'running', timeoutMs, `${container} to run`);
  }

  /**
   * Runs the container's startup probe, then its readiness probe, as the kubelet does (period,
   * timeout, failure threshold; a startup probe that fails `failureThreshold` times in a row fails).
   * A container that exits is waited for through the kubelet's restarts, up to `maxRestarts`
   * (a server started before its database is up exits once or twice on a cluster too). Rejects with
   * the container's log when the probe fails, the time is up or the restarts are used up.
   */
  public async waitReady(container: string, timeoutMs: number, opts: { maxRestarts?: number } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.waitRunning(container, timeoutMs);
    const spec = this.admitted!.spec.containers.find((c: any) => c.name === container);
    for (const kind of ['startupProbe', 'readinessProbe'] as const) {
      const probe = spec[kind];
      if (!probe) continue;
      await sleep((probe.initialDelaySeconds ?? 0) * 1000);
      let failures = 0;
      const threshold = probe.failureThreshold ?? 3;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`${this.name}/${container}: ${kind} did not succeed within ${timeoutMs} ms\n${this.describe(container)}`);
        const st = this.status.get(container)!;
        if (st.state !== 'running') {
          if (st.exits.length > (opts.maxRestarts ?? 2)) throw new Error(`${this.name}/${container} exited ${st.exits.length} times while waiting for its ${kind}\n${this.describe(container)}`);
          await this.waitRunning(container, Math.max(0, deadline - Date.now()));
          failures = 0;
          continue;
        }
        const ok = await this.probe(spec, probe);
        if (ok === true) break;
        failures++;
        if (kind === 'startupProbe' && failures >= threshold) throw new Error(`${this.name}/${container}: ${kind} failed ${failures} times (${ok})\n${this.describe(container)}`);
        await sleep((probe.periodSeconds ?? 10) * 1000);
      }
    }
  }

  /** Runs `argv` in the running container (as `kubectl exec`: its namespaces, root, user, environment). */
  public async exec(container: string, argv: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const proc = this.procs.get(container);
    const pid = proc && containerPid(proc.child);
    const id = this.status.get(container)?.identity;
    if (!pid || !id) throw new Error(`${this.name}/${container} is not running`);
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    const args = ['-t', String(pid), '-m', '-p', '-u', '-n', '-r', '-w', '--', '/usr/bin/setpriv', `--reuid=${id.uid}`, `--regid=${id.gid}`,
      id.groups.length ? `--groups=${id.groups.join(',')}` : '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', ...argv];
    return new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/nsenter', args, { env: Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** The pod's events and the container's status and log, for failure messages. */
  public describe(container?: string): string {
    const lines = [`pod ${this.pod.namespace}/${this.name}`, ...this.events.map((e) => `  event: ${e}`)];
    for (const [name, st] of this.status) {
      if (container && name !== container) continue;
      lines.push(`  ${name}: ${st.state}${st.reason ? ` (${st.reason}${st.message ? `: ${st.message}` : ''})` : ''}, restarts ${st.restarts}, exits ${JSON.stringify(st.exits)}`);
      lines.push(`  --- log of ${name} (last 6000 characters)`, this.log(name).slice(-6000));
    }
    return lines.join('\n');
  }

  // -------------------------------------------------------------------------------------------

  /** Records an event; a repeat of the last one is counted, as `kubectl describe` shows it (`x3 over …`). */
  private event(e: string): void {
    const last = this.events[this.events.length - 1];
    const m = last ? /^(\S+) (?:\(x(\d+)\) )?(.*)$/s.exec(last) : undefined;
    if (m && m[3] === e) this.events[this.events.length - 1] = `${m[1]} (x${Number(m[2] ?? 1) + 1}) ${e}`;
    else this.events.push(`${new Date().toISOString()} ${e}`);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.name}/${what}\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 250);
      });
    }
  }

  private async sync(): Promise<void> {
    const o = this.kubelet.o;
    // Admission, then volumes: retried while a Secret or ConfigMap is missing (FailedMount).
    for (;;) {
      if (this.stopping) return;
      try {
        this.admitted ??= await admit(this.pod, o.source);
        this.volumes = await prepareVolumes(this.admitted, {
          source: o.source,
          tokens: o.apiServer,
          claimState: (claim) => (existsSync(this.kubelet.claimDir(claim)) ? readTree(this.kubelet.claimDir(claim)) : undefined),
          resourceValue: (name, resource, divisor) => {
            const containers = this.admitted!.spec.containers;
            return resourceValue(containers.find((c: any) => c.name === name) ?? containers[0], resource, divisor);
          },
        });
        break;
      } catch (e) {
        if (!(e instanceof ContainerConfigError)) throw e;
        this.event(`FailedMount: ${e.message}`);
        await sleep(CONFIG_RETRY_MS);
      }
    }
    for (const c of [...(this.admitted.spec.initContainers ?? []), ...this.admitted.spec.containers]) {
      this.status.set(c.name, { state: 'waiting', reason: 'PodInitializing', restarts: 0, exits: [] });
    }
    mkdirSync(join(this.dir, 'volumes'), { recursive: true, mode: 0o700 });
    for (const [name, layout] of this.volumes!) {
      if (layout.type === 'persistentVolumeClaim') {
        const claim = this.admitted.claims[name] ?? this.admitted.spec.volumes.find((v: any) => v.name === name).persistentVolumeClaim.claimName;
        writeTree(this.kubelet.claimDir(claim), layout.nodes);
      } else {
        writeTree(join(this.dir, 'volumes', name), layout.nodes);
      }
    }
    this.event('volumes set up');
    const policy: string = this.admitted.spec.restartPolicy ?? 'Always';
    for (const c of this.admitted.spec.initContainers ?? []) {
      for (;;) {
        const exit = await this.runOnce(c);
        if (this.stopping) return;
        if (exit.code === 0) break;
        if (policy === 'Never') {
          this.event(`init container ${c.name} failed: pod failed`);
          this.setPhase('Failed');
          return;
        }
        await this.backoff(c.name);
      }
    }
    if (this.opts.initOnly) {
      this.event('init containers completed; the app containers are not started (initOnly)');
      return;
    }
    await Promise.all(this.admitted.spec.containers.map(async (c: any) => {
      for (;;) {
        const exit = await this.runOnce(c);
        if (this.stopping) return;
        if (policy === 'Never' || (policy === 'OnFailure' && exit.code === 0)) return;
        await this.backoff(c.name);
      }
    }));
    if (this.stopping) return;
    // getPhase: every container terminated (none will restart); Succeeded only when each exited 0.
    const ok = this.admitted.spec.containers.every((c: any) => this.status.get(c.name)!.exits.slice(-1)[0]?.code === 0);
    this.setPhase(ok ? 'Succeeded' : 'Failed');
  }

  private async backoff(container: string): Promise<void> {
    const st = this.status.get(container)!;
    const delay = Math.min(BACKOFF_MS * 2 ** Math.max(0, st.exits.length - 1), MAX_BACKOFF_MS);
    st.state = 'waiting';
    st.reason = 'CrashLoopBackOff';
    this.event(`BackOff: restarting ${container} in ${delay / 1000} s`);
    const until = Date.now() + delay;
    while (!this.stopping && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
    st.restarts++;
  }

  /** Starts the container once and waits for it to exit (retrying while it cannot be configured). */
  private async runOnce(c: any): Promise<Exit> {
    const o = this.kubelet.o;
    const st = this.status.get(c.name)!;
    let image: ImageStandIn;
    let launch: any;
    for (;;) {
      if (this.stopping) return { code: null, signal: 'SIGKILL' };
      try {
        image = this.kubelet.image(c.image);
        const id = effectiveIdentity(this.admitted!.spec, c, image.users);
        st.identity = id;
        const proc = await processSpec(this.admitted!, c, image, o.source, { master: o.apiServer, uid: id.uid });
        launch = {
          scratch: join(this.dir, `layer-${c.name}`),
          hostname: this.hostname,
          readOnlyRoot: c.securityContext?.readOnlyRootFilesystem === true,
          etc: { '/etc/passwd': image.passwd, '/etc/group': image.group, '/etc/hosts': await this.hosts(), '/etc/hostname': `${this.hostname}\n` },
          files: image.files,
          reachable: image.reachable,
          mounts: this.mounts(c),
          hide: [o.dir],
          uid: id.uid,
          gid: id.gid,
          groups: id.groups,
          env: proc.env,
          argv: proc.argv,
          workingDir: proc.workingDir,
        };
        await this.checkServicePorts(c);
        break;
      } catch (e) {
        if (!(e instanceof ContainerConfigError)) throw e;
        st.state = 'waiting';
        st.reason = 'CreateContainerConfigError';
        st.message = e.message;
        this.event(`${c.name}: CreateContainerConfigError: ${e.message}`);
        await sleep(CONFIG_RETRY_MS);
      }
    }
    mkdirSync(launch.scratch, { recursive: true, mode: 0o700 });
    const specFile = join(this.dir, `launch-${c.name}.json`);
    writeFileSync(specFile, JSON.stringify(launch), { mode: 0o600 });
    const unshare = ['/usr/bin/unshare', '--mount', '--pid', '--uts', '--fork', '--propagation', 'private', '--kill-child=SIGKILL', '--', '/usr/bin/python3', LAUNCHER, specFile];
    const netPid = await this.kubelet.networkPid();
    // On an isolated network the container joins the node's network namespace first (nsenter execs unshare).
    const argv = netPid ? ['/usr/bin/nsenter', `--net=/proc/${netPid}/ns/net`, '--', ...unshare] : unshare;
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    live.add(child);
    // Like the kubelet's /var/log/pods: the log is also on disk while the pod exists (for a look during a long test).
    const logFile = join(this.dir, `${c.name}.log`);
    const append = (chunk: Buffer) => {
      this.logs.set(c.name, this.log(c.name) + chunk.toString('utf8'));
      appendFileSync(logFile, chunk);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const closed = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    this.procs.set(c.name, { child, closed });
    st.state = 'running';
    st.reason = undefined;
    st.message = undefined;
    if (this.phase === 'Pending' && this.admitted!.spec.containers.some((x: any) => x.name === c.name)) this.setPhase('Running');
    this.event(`Started ${c.name} (${launch.argv.join(' ')}) as ${launch.uid}:${launch.gid} groups [${launch.groups}]`);
    const exit = await closed;
    live.delete(child);
    this.procs.delete(c.name);
    st.state = 'terminated';
    st.reason = exit.code === 0 ? 'Completed' : 'Error';
    st.exits.push(exit);
    this.event(`${c.name} exited: ${exit.code ?? exit.signal}`);
    return exit;
  }

  /** Every Service's DNS names at 127.0.0.1 (managedHostsFileContent's header and the pod's own name first). */
  private async hosts(): Promise<string> {
    const lines = ['# Kubernetes-managed hosts file (the harness: every Service is on the loopback).', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `127.0.0.1\t${this.hostname}`];
    // Pods with a hostname under a headless Service (`subdomain`) of this node: DNS gives them
    // `<hostname>.<subdomain>.<ns>.svc.cluster.local` (Kubernetes DNS specification, "Pod's hostname and subdomain fields").
    for (const p of this.kubelet.pods) {
      const { hostname, subdomain } = p.pod.spec;
      if (!hostname || !subdomain) continue;
      const base = `${hostname}.${subdomain}.${p.pod.namespace}`;
      lines.push(`127.0.0.1\t${base}.svc.cluster.local ${base}.svc${p.pod.namespace === this.pod.namespace ? ` ${hostname}.${subdomain}` : ''}`);
    }
    for (const h of this.kubelet.o.hosts ?? []) lines.push(`127.0.0.1\t${h}`);
    for (const s of await this.kubelet.o.source.listObjects('Service')) {
      const n = s.metadata.name;
      const ns = s.metadata.namespace ?? 'default';
      const names = [`${n}.${ns}.svc.cluster.local`, `${n}.${ns}.svc`, `${n}.${ns}`, ...(ns === this.pod.namespace ? [n] : [])];
      lines.push(`127.0.0.1\t${names.join(' ')}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** Every Service selecting this pod must map each port to the same container port: they share the loopback. */
  private async checkServicePorts(c: any): Promise<void> {
    for (const s of await this.kubelet.o.source.listObjects('Service', this.pod.namespace)) {
      const sel = s.spec?.selector;
      if (!sel || !Object.entries<string>(sel).every(([k, v]) => this.pod.labels[k] === v)) continue;
      for (const p of s.spec.ports ?? []) {
        const target = p.targetPort ?? p.port;
        const cp = (c.ports ?? []).find((x: any) => x.name === target || x.containerPort === target);
        if (cp && cp.containerPort !== p.port) {
          throw new Error(`Service ${s.metadata.name} port ${p.port} → container port ${cp.containerPort}: the harness shares the loopback, so it cannot map one to the other`);
        }
      }
    }
  }

  private mounts(c: any): { source: string; target: string; readOnly: boolean; file: boolean }[] {
    return containerMounts(c, this.volumes!).map((m) => {
      const base = m.volume.type === 'persistentVolumeClaim'
        ? this.kubelet.claimDir(this.admitted!.spec.volumes.find((v: any) => v.name === m.volume.name).persistentVolumeClaim.claimName)
        : join(this.dir, 'volumes', m.volume.name);
      let source = base;
      if (m.subPath) {
        // kubelet_pods.go `makeMounts` + subpath_linux.go: resolved inside the volume (symlinks followed), created when missing.
        const candidate = join(base, m.subPath);
        // eslint-disable-next-line no-bitwise
        if (!existsSync(candidate)) mkdirSync(candidate, { recursive: true, mode: statSync(base).mode & 0o7777 });
        source = realpathSync(candidate);
        const rel = relative(realpathSync(base), source);
        if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) throw new ContainerConfigError(`subPath ${m.subPath} escapes volume ${m.volume.name}`);
      }
      return { source, target: m.mountPath, readOnly: m.readOnly, file: statSync(source).isFile() };
    });
  }

  private async probe(container: any, probe: any): Promise<true | string> {
    const timeout = (probe.timeoutSeconds ?? 1) * 1000;
    if ((probe.httpGet || probe.tcpSocket) && this.kubelet.o.network) throw new Error(`${this.name}/${container.name}: network probes are not supported on an isolated harness network`);
    const port = (p: any) => (typeof p === 'number' ? p : (container.ports ?? []).find((x: any) => x.name === p)?.containerPort);
    if (probe.httpGet) {
      const p = port(probe.httpGet.port);
      return new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: p, path: probe.httpGet.path ?? '/', timeout, headers: { 'User-Agent': 'kube-probe/1.37' } }, (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 400 ? true : `HTTP ${code}`);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve(String(e)));
      });
    }
    if (probe.tcpSocket) {
      return new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: port(probe.tcpSocket.port), timeout }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', (e) => resolve(String(e)));
        s.on('timeout', () => {
          s.destroy();
          resolve('timeout');
        });
      });
    }
    if (probe.exec) {
      const r = await this.exec(container.name, probe.exec.command, timeout);
      return r.code === 0 ? true : `exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`;
    }
    throw new Error('probe without a handler');
  }
}

/**
 * Starts netns.py in a new network namespace and, for each forwarded port, a relay on the host from
 * its Unix socket (in `dir`, reachable by root only) to the host port.
 */
function startNetwork(dir: string, forward: Readonly<Record<number, number>>): { child: ChildProcess; ready: Promise<void>; servers: net.Server[] } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const servers: net.Server[] = [];
  const spec = { forward: [] as { port: number; socket: string }[] };
  for (const [port, hostPort] of Object.entries(forward)) {
    const socket = join(dir, `${port}.sock`);
    const server = net.createServer((down) => {
      const up = net.connect({ host: '127.0.0.1', port: hostPort });
      down.pipe(up);
      up.pipe(down);
      const close = () => {
        down.destroy();
        up.destroy();
      };
      up.on('error', close);
      down.on('error', close);
      up.on('close', close);
      down.on('close', close);
    });
    server.listen(socket);
    servers.push(server);
    spec.forward.push({ port: Number(port), socket });
  }
  const specFile = join(dir, 'netns.json');
  writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600 });
  const child = spawn('/usr/bin/unshare', ['--net', '--', '/usr/bin/python3', NETNS, specFile], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  live.add(child);
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('ready\n')) resolve();
    });
    child.stderr!.on('data', (c: Buffer) => { err += c.toString('utf8'); });
    child.on('close', (code) => reject(new Error(`the harness network (netns.py) ended with ${code}: ${err}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, servers };
}

/** The host pid of the container's PID 1: the child of `unshare --fork`. */
function containerPid(child: ChildProcess): number | undefined {
  if (!child.pid) return undefined;
  try {
    const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes (or, for an existing claim, re-owns) a layout under `dir`. */
export function writeTree(dir: string, nodes: readonly FsNode[]): void {
  for (const n of nodes) {
    const p = n.path ? join(dir, n.path) : dir;
    if (n.kind === 'dir') mkdirSync(p, { recursive: true });
    else if (n.kind === 'file' && n.data !== undefined) writeFileSync(p, n.data);
    else if (n.kind === 'symlink' && !existsSync(p) && n.target) symlinkSync(n.target, p);
    lchownSync(p, n.uid, n.gid);
    if (n.kind !== 'symlink') chmodSync(p, n.mode);
  }
}

/** A folder's current nodes (for a claim mounted again): parents first. */
export function readTree(dir: string): FsNode[] {
  const out: FsNode[] = [];
  const walk = (rel: string) => {
    const st = lstatSync(rel ? join(dir, rel) : dir);
    const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
    // eslint-disable-next-line no-bitwise
    out.push({ path: rel, kind, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    if (kind === 'dir') for (const e of readdirSync(rel ? join(dir, rel) : dir)) walk(rel ? `${rel}/${e}` : e);
  };
  walk('');
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
