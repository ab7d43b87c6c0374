/**
 * Engine test: the multi-node step's rendezvous really works. The synthesized Indexed Job (taken from
 * the Argo resource template's manifest, with the substitutions Argo makes) is run by the kubelet
 * harness's Job controller (fixtures/harness.ts): one pod per completion index, each with exactly the
 * container's command, args, env, user and mounts, `JOB_COMPLETION_INDEX`/`JOB_NAME` from the pod's
 * completion index and job-name label as the controller sets them, `$(VAR)` expanded as the kubelet
 * does. The fixture script all-reduces over gloo and checks world size and ranks.
 *
 * What is stood in for, and why:
 * - `MASTER_ADDR` is `<job>-0.<service>`, the index-0 pod's DNS name under the headless Service
 *   (`hostname` and `subdomain`): the harness's pods share one network namespace of their own, whose
 *   /etc/hosts names every pod with a hostname under a subdomain, so the name resolves to the
 *   loopback where the index-0 pod listens on the synthesized port (29500) — no rewrite, no collision
 *   with the host;
 * - the image `ghcr.io/acme/train:1.0.0` is Debian's Python with Debian's PyTorch (python3-torch's
 *   /usr/bin/torchrun) and the fixture at its image path `/app/allreduce.py`;
 * - `--redirects 2 --tee 2` come first in the step's command (so in the synthesized args): torchrun 1.13
 *   on Python 3.11 crashes with its default redirect settings, which newer torch in real images does not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { engineKubelet, runJob } from './fixtures/harness';
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

/** The synthesized pipeline and its multi-node Job, as Argo would create it for run `run-1`. */
function synthesize(): { objects: K8sObject[]; job: any; service: K8sObject } {
  const { objects } = synthChart((chart) => {
    const p = new TrainingPipeline(chart, 'ddp', { namespace: 'team-a', parameters: { world: { default: String(NODES * GPUS_PER_NODE) } } });
    p.addStep('train', {
      image: 'ghcr.io/acme/train:1.0.0',
      command: ['--redirects', '2', '--tee', '2', SCRIPT_IN_IMAGE],
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
  test('every index joins the rendezvous on the index-0 pod and the gloo all-reduce sees all ranks', async () => {
    requireTorch();
    const { objects, job, service } = synthesize();
    const jobName = 'ddp-train-x7k2q'; // what generateName gives
    job.metadata.name = jobName;
    expectValidManifests([...findAll(objects, 'Service'), job]);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: NODES, parallelism: NODES });
    const pod = job.spec.template.spec;
    expect(pod.subdomain).toBe(service.metadata.name);
    expect(service.spec).toMatchObject({ clusterIP: 'None', selector: job.spec.template.metadata.labels });
    const [c] = pod.containers;
    expect(c.command).toEqual(['torchrun']);
    expect(c.env).toEqual(expect.arrayContaining([{ name: 'MASTER_ADDR', value: `$(JOB_NAME)-0.${service.metadata.name}` }]));

    const { source, kubelet } = engineKubelet({ forward: {}, imageFiles: { [c.image]: { [SCRIPT_IN_IMAGE]: readFileSync(FIXTURE, 'utf8') } } });
    try {
      for (const o of objects) source.put(o as any);
      const run = runJob(kubelet, job);
      const end = await run.wait(100_000).catch((e) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n${run.describe()}`);
      });
      expect({ end, log: end.type === 'Complete' ? '' : run.describe() }).toEqual({ end: expect.objectContaining({ type: 'Complete', reason: 'CompletionsReached' }), log: '' });
      expect(run.pods.map((p) => p.index)).toEqual([0, 1]);
      const outputs = run.pods.map((p) => {
        // What torchrun was started with on each pod: the node rank from the controller's index, the master under the headless Service.
        const started = p.pod.events.find((e) => e.includes('Started '))!;
        expect(started).toContain(`--node_rank=${p.index} --master_addr=${jobName}-0.${service.metadata.name} --master_port=29500`);
        return p.pod.log(c.name);
      });
      // Workers share their agent's stdout: match the reports wherever they landed.
      const seen = [...outputs.join('\n').matchAll(/ALLREDUCE-OK rank=(\d+) world=(\d+) node=(\d+) sum=(\d+)/g)].map((m) => m.slice(1).map(Number));
      const world = NODES * GPUS_PER_NODE;
      expect(seen.map(([rank]) => rank).sort((a, b) => a - b)).toEqual(Array.from({ length: world }, (_, i) => i));
      for (const [rank, w, node, sum] of seen) {
        expect([w, node, sum]).toEqual([world, Math.floor(rank / GPUS_PER_NODE), (world * (world + 1)) / 2]);
      }
    } finally {
      await kubelet.stop();
    }
  }, 120_000);
});
