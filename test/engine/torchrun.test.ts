/**
 * Engine test: the multi-node step's rendezvous really works. The synthesized Indexed Job (taken from
 * the Argo resource template's manifest, with the substitutions Argo makes) is run as one local
 * torchrun per completion index, each with exactly the container's command, args and env, resolved
 * as the kubelet does. The fixture script all-reduces over gloo and checks world size and ranks.
 *
 * What is simulated, and why:
 * - `JOB_COMPLETION_INDEX` and `JOB_NAME` come from the downward API (the pod's completion-index
 *   annotation and job-name label): the test gives them per index.
 * - `MASTER_ADDR` resolves (after `$(JOB_NAME)` expansion) to `<job>-0.<service>`, the index-0 pod's
 *   DNS name under the headless Service. The test checks that name, then points it at 127.0.0.1,
 *   where the index-0 process listens: on one machine every "pod" is localhost.
 * - `MASTER_PORT` gets a free local port instead of 29500, so parallel runs do not collide.
 * - `torchrun` is Debian's `/usr/bin/torchrun` (python3-torch) and the script path inside the image
 *   is mapped to the fixture. `--redirects 2 --tee 2` is injected here only: torchrun 1.13 on
 *   Python 3.11 crashes with its default redirect settings, which newer torch in real images does
 *   not; the synthesized command keeps torchrun's defaults.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { parse } from 'yaml';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { argoSubstitute } from '../support/argo-manifest';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

const PYTHON = '/usr/bin/python3';
const TORCHRUN = '/usr/bin/torchrun';
const SCRIPT_IN_IMAGE = '/app/allreduce.py';
const FIXTURE = path.join(__dirname, 'fixtures', 'pipeline', 'allreduce.py');
const NODES = 2;
const GPUS_PER_NODE = 2;

function requireTorch(): void {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, torch.distributed'], { stdio: 'pipe', timeout: 60_000 });
    execFileSync(TORCHRUN, ['--help'], { stdio: 'pipe', timeout: 60_000 });
  } catch (e) {
    throw new Error(
      `The torchrun engine test needs Debian's PyTorch (${PYTHON} with torch, and ${TORCHRUN}). ` +
      `Install it with: apt-get update && apt-get install -y python3-torch\n(cause: ${(e as Error).message.split('\n')[0]})`,
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Kubernetes `$(VAR)` expansion (`$$` escapes; unknown names stay as they are). */
function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => (m === '$$' ? '$' : name in env ? env[name] : m));
}

/** The synthesized pipeline and its multi-node Job, as Argo would create it for run `run-1`. */
function synthesize(): { objects: K8sObject[]; job: any; service: K8sObject } {
  const { objects } = synthChart((chart) => {
    const p = new TrainingPipeline(chart, 'ddp', { namespace: 'team-a', parameters: { world: { default: String(NODES * GPUS_PER_NODE) } } });
    p.addStep('train', {
      image: 'ghcr.io/acme/train:1.0.0',
      command: [SCRIPT_IN_IMAGE],
      args: ['--expect-world', p.parameter('world')],
      nodes: NODES,
      gpus: GPUS_PER_NODE,
      accelerator: 'nvidia-l4',
    });
  });
  const template = find(objects, 'WorkflowTemplate', 'ddp').spec.templates.find((t: any) => t.name === 'step-train');
  // Argo substitutes the template's inputs and run variables in the manifest text before creating it.
  const manifest = argoSubstitute(String(template.resource.manifest), { 'inputs.parameters.world': String(NODES * GPUS_PER_NODE), 'workflow.name': 'run-1' });
  expect(manifest).not.toMatch(/\{\{/);
  const job = parse(manifest);
  return { objects, job, service: find(objects, 'Service', 'ddp-train') };
}

describe('multi-node step: torchrun rendezvous of the synthesized Indexed Job', () => {
  jest.setTimeout(120_000);
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

  test('every index joins the rendezvous on the index-0 pod and the gloo all-reduce sees all ranks', async () => {
    requireTorch();
    const { objects, job, service } = synthesize();
    const jobName = 'ddp-train-x7k2q'; // what generateName gives
    expectValidManifests([...findAll(objects, 'Service'), { ...job, metadata: { ...job.metadata, name: jobName } }]);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: NODES, parallelism: NODES });
    const pod = job.spec.template.spec;
    expect(pod.subdomain).toBe(service.metadata.name);
    expect(service.spec).toMatchObject({ clusterIP: 'None', selector: job.spec.template.metadata.labels });
    const [c] = pod.containers;
    expect(c.command).toEqual(['torchrun']);
    const port = String(await freePort());

    const runs = Array.from({ length: NODES }, (_, index) => {
      // Resolve the env list in order, as the kubelet does: downward API values, then $(VAR) expansion.
      const env: Record<string, string> = {};
      for (const e of c.env as any[]) {
        if (e.valueFrom?.fieldRef?.fieldPath === "metadata.annotations['batch.kubernetes.io/job-completion-index']") env[e.name] = String(index);
        else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.labels['batch.kubernetes.io/job-name']") env[e.name] = jobName;
        else if (e.valueFrom) throw new Error(`unexpected valueFrom in ${e.name}`);
        else env[e.name] = expand(e.value ?? '', env);
      }
      expect(env.JOB_COMPLETION_INDEX).toBe(String(index));
      expect(env.MASTER_ADDR).toBe(`${jobName}-0.${service.metadata.name}`);
      env.MASTER_ADDR = '127.0.0.1';
      env.MASTER_PORT = port;
      const args = (c.args as string[]).map((a) => expand(a, env)).map((a) => (a === SCRIPT_IN_IMAGE ? FIXTURE : a));
      expect(args.slice(0, 5)).toEqual([`--nnodes=${NODES}`, `--nproc_per_node=${GPUS_PER_NODE}`, `--node_rank=${index}`, '--master_addr=127.0.0.1', `--master_port=${port}`]);
      return new Promise<string>((resolve, reject) => {
        const child = spawn(TORCHRUN, ['--redirects', '2', '--tee', '2', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        // Kept apart: a chunk of one stream may end mid-line, so mixing them could split a report.
        let out = '';
        let err = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (err += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(out);
          else reject(new Error(`node ${index} exited with ${code}:\n${out.slice(-1500)}\n${err.slice(-3000)}`));
        });
      });
    });
    const outputs = await Promise.all(runs);
    // Workers share their agent's stdout: match the reports wherever they landed.
    const seen = [...outputs.join('\n').matchAll(/ALLREDUCE-OK rank=(\d+) world=(\d+) node=(\d+) sum=(\d+)/g)].map((m) => m.slice(1).map(Number));
    const world = NODES * GPUS_PER_NODE;
    expect(seen.map(([rank]) => rank).sort((a, b) => a - b)).toEqual(Array.from({ length: world }, (_, i) => i));
    for (const [rank, w, node, sum] of seen) {
      expect([w, node, sum]).toEqual([world, Math.floor(rank / GPUS_PER_NODE), (world * (world + 1)) / 2]);
    }
  });
});
