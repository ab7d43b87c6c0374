/**
 * The executor's part of Argo's pods, where no container runtime runs them. The controller's pods
 * reach us held by the tier's scheduling gate (argo.ts); for each one:
 *
 * - **A `resource` template runs the real executor**: `argoexec` from the same module and version as
 *   the controller — the init container's program (`argoexec init`: writes the template to the shared
 *   /var/run/argo) and then the main container's (`argoexec resource create`, the program the
 *   emissary wrapper `/var/run/argo/argoexec emissary … --` would start), each with exactly the env the
 *   controller gave that container (`ARGO_POD_NAME`, `ARGO_NODE_ID` …, field references resolved from
 *   the pod), as the pod's ServiceAccount: a token from the TokenRequest API bound to the pod, at the
 *   in-cluster path client-go reads (`/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,
 *   namespace}`, rest.InClusterConfig) with `KUBERNETES_SERVICE_HOST/PORT` of the tier's API server.
 *   They run in a private mount namespace with tmpfs mounts there, on /var/run/argo (the pod's
 *   emptyDir) and on /tmp (where the manifest goes, common.ExecutorResourceManifestPath), so nothing
 *   on the host changes but two empty mount points. The resource command creates the manifest
 *   (in-process kubectl), waits for the success condition and reports through the WorkflowTaskResult
 *   (cmd/argoexec/commands/resource.go). The wait container is not run: for a resource template it
 *   only saves logs when `archiveLogs` is on (cmd/argoexec/commands/wait.go).
 * - **A container template's wait container is a double** (its main program is the user's image,
 *   which cannot run here): it writes the WorkflowTaskResult the real `argoexec wait` writes
 *   (cmd/argoexec/commands/wait.go → workflow/executor/taskresult.go createTaskResult, ReportOutputs,
 *   FinalizeOutput): named by the node ID, labelled with the workflow and
 *   `report-outputs-completed` ("false" on create, "true" at the end), owned by the Workflow, with
 *   the template's outputs — parameters set to values the test chose (SaveParameters), artifacts as
 *   the template declares them (a keyed artifact is reported as is by saveArtifactFromFile). It
 *   does so with the pod ServiceAccount's token and the executor's verbs (create, patch), so RBAC is
 *   the real API server's. Nothing is uploaded; input artifacts are not downloaded (no `argoexec init`).
 *
 * Then, as a kubelet would let the pod finish: the gate is removed (kwok runs the pod to Succeeded)
 * when the executor succeeded, or the pod's status is set Failed with the executor's exit code.
 */
import { spawn } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { ControlPlane } from './control-plane';
import { Kube, KubeError } from './kube';

const WORKFLOW_LABEL = 'workflows.argoproj.io/workflow';
const COMPLETED_LABEL = 'workflows.argoproj.io/report-outputs-completed';
const GATE = 'mlplatform.test/argo-executor';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What the executor did for one pod. */
export interface ExecutedPod {
  readonly pod: string;
  readonly nodeId: string;
  readonly template: string;
  /** `argoexec resource <action>` (the real executor) or `wait double`. */
  readonly role: string;
  readonly exitCode: number;
  readonly message?: string;
  /** The template as the controller resolved it for the pod (`ARGO_TEMPLATE`). */
  readonly argoTemplate?: any;
  /** The main container's command and arguments, as the controller wrote them. */
  readonly mainArgs?: string[];
  /** The pod as the controller created it: its `automountServiceAccountToken`, and each container's mount at the token path (volume name). */
  readonly tokens?: { readonly automount?: boolean; readonly mounts: Readonly<Record<string, string | undefined>> };
}

/** Runs the executor's part of every Argo pod the controller creates (see the file's comment). */
export class ArgoExecutor {
  /** Every pod handled, in order of completion. */
  public readonly executed: ExecutedPod[] = [];
  private readonly values = new Map<string, Record<string, string>>();
  private readonly seen = new Set<string>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  private readonly dir: string;
  private readonly server: URL;

  constructor(private readonly plane: ControlPlane, private readonly argoexec: string) {
    this.dir = join(plane.dir, 'argoexec');
    mkdirSync(this.dir, { recursive: true });
    this.server = new URL(plane.server);
  }

  /** The values the doubled wait container reports for `template`'s output parameters. */
  public setOutputParameters(template: string, values: Record<string, string>): void {
    this.values.set(template, values);
  }

  /** Starts watching for held pods (polling every 300 ms). */
  public start(): void {
    // The mount point of the ServiceAccount files (empty on the host; filled only inside argoexec's mount namespace).
    mkdirSync(SA_DIR, { recursive: true });
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      this.poll().catch(() => undefined).finally(() => { this.polling = false; });
    }, 300);
  }

  public stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const pods = await this.plane.admin.list('v1', 'Pod', undefined, WORKFLOW_LABEL);
    for (const pod of pods) {
      if (!(pod.spec.schedulingGates ?? []).some((g: any) => g.name === GATE) || this.seen.has(pod.metadata.uid)) continue;
      this.seen.add(pod.metadata.uid);
      void this.handle(pod);
    }
  }

  private async handle(pod: any): Promise<void> {
    const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const main = pod.spec.containers.find((c: any) => c.name === 'main');
    const nodeId: string = pod.metadata.annotations?.['workflows.argoproj.io/node-id'] ?? '';
    let template: any = {};
    let result: ExecutedPod;
    try {
      // The controller gives the template to the executor's containers in their env (ARGO_TEMPLATE).
      const raw = [...pod.spec.initContainers ?? [], ...pod.spec.containers].map((c: any) => resolveEnv(pod, c).ARGO_TEMPLATE).find((t) => t);
      if (!raw) throw new Error(`no container of ${name} has ARGO_TEMPLATE`);
      template = JSON.parse(raw);
      const token = await this.token(pod);
      result = template.resource
        ? await this.runArgoexec(pod, main, token, resolveEnv(pod, main).ARGO_NODE_ID ?? nodeId, template)
        : await this.waitDouble(pod, token, nodeId, template);
    } catch (e) {
      result = { pod: name, nodeId, template: template.name, role: template.resource ? 'argoexec' : 'wait double', exitCode: 1, message: String(e) };
    }
    const containers = [...pod.spec.initContainers ?? [], ...pod.spec.containers];
    const mounts = Object.fromEntries(containers.map((c: any) => [c.name, (c.volumeMounts ?? []).find((m: any) => m.mountPath === SA_DIR)?.name]));
    const tokens = { automount: pod.spec.automountServiceAccountToken, mounts };
    this.executed.push({ ...result, argoTemplate: template, mainArgs: [...(main?.command ?? []), ...(main?.args ?? [])], tokens });
    await this.finish(pod, result).catch(() => undefined);
  }

  /**
   * The token the executor's containers hold: with `executor.serviceAccountName`, the token Secret Argo
   * mounts into them as volume `exec-sa-token` (workflow/controller/workflowpod.go setupServiceAccount,
   * filled by the API server's token controller); else a token of the pod's ServiceAccount, bound to
   * the pod (what the kubelet projects into it).
   */
  private async token(pod: any): Promise<string> {
    const ns = pod.metadata.namespace;
    const exec = (pod.spec.volumes ?? []).find((v: any) => v.name === 'exec-sa-token')?.secret?.secretName;
    if (exec) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const secret = await this.plane.admin.request('GET', `/api/v1/namespaces/${ns}/secrets/${exec}`).catch(() => undefined);
        const token = secret?.data?.token;
        if (token) return Buffer.from(token, 'base64').toString('utf8');
        if (Date.now() > deadline) throw new Error(`the executor's token Secret ${ns}/${exec} was not filled by the token controller within 60 s`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const sa = pod.spec.serviceAccountName ?? 'default';
    const r = await this.plane.admin.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
    });
    return r.status.token;
  }

  /** The real `argoexec` for the main container of a resource template's pod. */
  private async runArgoexec(pod: any, main: any, token: string, nodeId: string, template: any): Promise<ExecutedPod> {
    const mounted = (main.volumeMounts ?? []).some((m: any) => m.mountPath === SA_DIR);
    if (!mounted) throw new Error(`the main container of ${pod.metadata.name} has no ServiceAccount token at ${SA_DIR}: argoexec could not reach the API server`);
    // The controller wraps the main program in the emissary (`/var/run/argo/argoexec emissary … -- <program>`),
    // which runs it and records its exit code for the wait container; the program is what runs here.
    const full: string[] = [...(main.command ?? []), ...(main.args ?? [])];
    const argv = full[1] === 'emissary' && full.includes('--') ? full.slice(full.indexOf('--') + 1) : full;
    if (argv[0] !== 'argoexec' || argv[1] !== 'resource') throw new Error(`unexpected program of a resource template's main container: ${full.join(' ')}`);
    const files = mkdtempSync(join(this.dir, `${pod.metadata.name}-`));
    writeFileSync(join(files, 'token'), token);
    writeFileSync(join(files, 'ca.crt'), readFileSync(this.plane.pki.caCert));
    writeFileSync(join(files, 'namespace'), pod.metadata.namespace);
    const log = join(files, 'argoexec.log');
    const kubelet = { HOME: '/tmp', KUBERNETES_SERVICE_HOST: this.server.hostname, KUBERNETES_SERVICE_PORT: this.server.port };
    // One container's program with exactly its env (`env -i`), its output to the log (fd 3, opened before /tmp is covered).
    const run = (c: any, program: string[]) => {
      // argoexec on PATH, as in the executor image (`argoexec init` copies itself from there: emissary.copyBinary).
      const vars = Object.entries({ PATH: `${dirname(this.argoexec)}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...kubelet, ...resolveEnv(pod, c) }).map(([k, v]) => shq(`${k}=${v}`));
      return `env -i ${vars.join(' ')} ${shq(this.argoexec)} ${program.slice(1).map(shq).join(' ')} >&3 2>&3`;
    };
    // The init container (`argoexec init`) writes the template to the shared /var/run/argo (an emptyDir
    // in the pod; a tmpfs here), where the resource command reads it (cmd/argoexec/executor/init.go).
    const init = (pod.spec.initContainers ?? []).find((c: any) => c.name === 'init');
    const initArgv: string[] = init ? [...(init.command ?? []), ...(init.args ?? [])] : [];
    if (init && initArgv[0] !== 'argoexec') throw new Error(`unexpected program of the init container: ${initArgv.join(' ')}`);
    mkdirSync('/var/run/argo', { recursive: true });
    const script = [
      'set -e',
      `mount -t tmpfs tmpfs ${SA_DIR}`, `cp ${shq(files)}/token ${shq(files)}/ca.crt ${shq(files)}/namespace ${SA_DIR}/`,
      `exec 3>>${shq(log)}`, 'mount -t tmpfs tmpfs /var/run/argo', 'mount -t tmpfs tmpfs /tmp', 'cd /tmp',
      ...(init ? [run(init, initArgv)] : []),
      `exec ${run(main, argv)}`,
    ].join('\n');
    const code = await new Promise<number>((resolve) => {
      const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script], { stdio: 'ignore', env: { PATH: process.env.PATH } });
      const kill = setTimeout(() => child.kill('SIGKILL'), 180_000);
      child.on('exit', (c, sig) => { clearTimeout(kill); resolve(c ?? (sig ? 137 : 1)); });
    });
    const text = readFileSync(log, 'utf8');
    const message = code === 0 ? undefined : text.split('\n').filter((l) => /"level":"(ERROR|FATAL)"|^panic|Error:/.test(l)).slice(-3).join('\n').slice(0, 2000);
    return { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, nodeId, template: template.name, role: `argoexec ${argv.slice(1, 3).join(' ')}`, exitCode: code, message };
  }

  /** The doubled wait container: the WorkflowTaskResult `argoexec wait` writes, with the pod's identity. */
  private async waitDouble(pod: any, token: string, nodeId: string, template: any): Promise<ExecutedPod> {
    const env = resolveEnv(pod, pod.spec.containers.find((c: any) => c.name === 'wait') ?? pod.spec.containers[0]);
    const kube: Kube = this.plane.admin.withToken(token);
    const ns = pod.metadata.namespace;
    const base = `/apis/argoproj.io/v1alpha1/namespaces/${ns}/workflowtaskresults`;
    const wf = env.ARGO_WORKFLOW_NAME ?? pod.metadata.labels[WORKFLOW_LABEL];
    try {
      // InitializeOutput: the placeholder, not yet complete.
      await kube.request('POST', base, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'WorkflowTaskResult',
        metadata: {
          name: nodeId,
          labels: { [WORKFLOW_LABEL]: wf, [COMPLETED_LABEL]: 'false' },
          ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: wf, uid: env.ARGO_WORKFLOW_UID }],
        },
      });
      // SaveParameters + SaveArtifacts + ReportOutputs: the template's outputs with the values filled in.
      const outputs = structuredClone(template.outputs ?? {});
      const chosen = this.values.get(template.name) ?? {};
      for (const p of outputs.parameters ?? []) {
        // A parameter with a `value` (no valueFrom.path) is reported as it is (workflow/executor/executor.go SaveParameters).
        if (p.value !== undefined && p.valueFrom?.path === undefined) continue;
        const v = chosen[p.name] ?? p.valueFrom?.default;
        if (v === undefined) throw new Error(`no value chosen for the output parameter ${template.name}.${p.name} (setOutputParameters)`);
        p.value = v;
      }
      for (const a of outputs.artifacts ?? []) {
        if (!a.s3?.key) throw new Error(`the double reports only keyed artifacts; ${template.name}.${a.name} has none`);
      }
      if ((outputs.parameters ?? []).length || (outputs.artifacts ?? []).length) {
        await kube.request('PATCH', `${base}/${nodeId}`, { outputs }, 'application/merge-patch+json');
      }
      // FinalizeOutput.
      await kube.request('PATCH', `${base}/${nodeId}`, { metadata: { labels: { [COMPLETED_LABEL]: 'true' } } }, 'application/merge-patch+json');
    } catch (e) {
      const why = e instanceof KubeError ? e.message : String(e);
      return { pod: `${ns}/${pod.metadata.name}`, nodeId, template: template.name, role: 'wait double', exitCode: 1, message: why };
    }
    return { pod: `${ns}/${pod.metadata.name}`, nodeId, template: template.name, role: 'wait double', exitCode: 0 };
  }

  /** Lets the pod run to Succeeded (kwok), or sets it Failed with the executor's exit code. */
  private async finish(pod: any, r: ExecutedPod): Promise<void> {
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
    if (r.exitCode === 0) {
      await this.plane.admin.request('PATCH', path, { spec: { schedulingGates: null } }, 'application/merge-patch+json');
      return;
    }
    const now = new Date().toISOString();
    const container = r.template && pod.spec.containers.some((c: any) => c.name === 'main') ? 'main' : pod.spec.containers[0].name;
    await this.plane.admin.request('PATCH', `${path}/status`, {
      status: {
        phase: 'Failed',
        message: r.message,
        containerStatuses: pod.spec.containers.map((c: any) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: c.name === container ? r.exitCode : 0, reason: c.name === container ? 'Error' : 'Completed', message: r.message, startedAt: now, finishedAt: now } },
        })),
      },
    }, 'application/merge-patch+json');
  }
}

/** `s` quoted for sh. */
function shq(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** A container's env as the kubelet resolves it: literal values and field references of the pod. */
export function resolveEnv(pod: any, container: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container?.env ?? []) {
    if (e.value !== undefined) {out[e.name] = e.value;} else if (e.valueFrom?.fieldRef) {
      const f: string = e.valueFrom.fieldRef.fieldPath;
      const m = /^metadata\.(annotations|labels)\['(.+)'\]$/.exec(f);
      out[e.name] = m ? pod.metadata[m[1]]?.[m[2]] ?? ''
        : f === 'metadata.name' ? pod.metadata.name
          : f === 'metadata.namespace' ? pod.metadata.namespace
            : f === 'metadata.uid' ? pod.metadata.uid
              : f === 'spec.serviceAccountName' ? pod.spec.serviceAccountName
                : f === 'spec.nodeName' ? pod.spec.nodeName ?? ''
                  : '';
    }
  }
  return out;
}
