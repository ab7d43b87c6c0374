// Issue #21 item 8: mlplatform/testing's validator looks inside Argo `resource.manifest` strings, as the
// project's own tests do (test/cdk8s/training-pipeline-multinode.test.ts parses the manifest with Argo's
// expressions substituted and validates the Job strictly).
import { Chart, JsonPatch, Testing } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { MlPlatform, TrainingPipeline } from '../../src/cdk8s';
import { Cpu, Size } from '../../src/core';
import { checkTemplate, manifestsOf, validateManifests } from '../../src/testing';

/** A platform with a 2-node step: its WorkflowTemplate creates an Indexed Job from a manifest string. */
function build(edit?: (job: any) => any) {
  const chart = new Chart(Testing.app(), 'test');
  const ml = new MlPlatform(chart, 'ml');
  ml.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 4 });
  ml.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: 4 } } });
  const p = new TrainingPipeline(chart, 'ddp', {
    platform: ml,
    namespace: 'vision',
    steps: [{ name: 'fit', image: 'ghcr.io/acme/train:1.0.0', command: ['-m', 'trainer'], nodes: 2, gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) }],
  });
  const wt = p.node.findAll().find((c: any) => c.kind === 'WorkflowTemplate') as any;
  const templates = wt.toJson().spec.templates as any[];
  const index = templates.findIndex((t) => t.resource?.manifest);
  const manifest: string = templates[index].resource.manifest;
  if (edit) wt.addJsonPatch(JsonPatch.replace(`/spec/templates/${index}/resource/manifest`, edit(manifest)));
  return { chart, index, manifest };
}

const withJob = (f: (job: any) => void) => (text: string) => {
  const job = parse(text);
  f(job);
  return stringify(job);
};

describe('Argo resource manifests', () => {
  test('the synthesized multi-node step\'s Job validates (schemas, apiserver rules, Pod Security restricted)', () => {
    const { chart, manifest } = build();
    expect(manifest).toMatch(/kind: Job/);
    expect(manifest).toMatch(/\{\{workflow\.name\}\}/);
    expect(checkTemplate(chart).validationErrors).toEqual([]);
  });

  test('a bogus field in the embedded Job fails, naming the template, the manifest and the field inside it', () => {
    const { chart, index } = build(withJob((job) => {
      job.spec.template.spec.containers[0].bogusField = true;
    }));
    expect(checkTemplate(chart).validationErrors).toEqual([
      `WorkflowTemplate/ddp spec.templates[${index}].resource.manifest: embedded Job/ddp-fit-x spec.template.spec.containers[0]: unknown field "bogusField" [schema]`,
    ]);
  });

  test('Pod Security applies inside too: a privileged embedded container fails', () => {
    const { chart } = build(withJob((job) => {
      job.spec.template.spec.containers[0].securityContext.privileged = true;
    }));
    expect(checkTemplate(chart).validationErrors.join('\n')).toMatch(/embedded Job\/\S+ spec\.template\.spec\.containers\[0\]\.securityContext\.privileged: .*\[pss\]/);
  });

  test('a manifest that is not YAML fails with a parse finding; a placeholder standing for a whole number does not', () => {
    const broken = build(() => 'kind: Job\nspec: [unclosed');
    expect(checkTemplate(broken.chart, { pss: false }).validationErrors.join('\n')).toMatch(/embedded manifest of template "step-fit" does not parse: .*\[parse\]/);
    const parameterized = build(withJob((job) => {
      job.spec.parallelism = '{{inputs.parameters.nodes}}';
    }));
    expect(checkTemplate(parameterized.chart).validationErrors).toEqual([]);
  });

  test('validateManifests on plain objects (no construct) looks inside too', () => {
    const { chart } = build(withJob((job) => {
      job.spec.bogus = 1;
    }));
    const errors = validateManifests(manifestsOf(chart)).errors.map((f) => f.message);
    expect(errors).toEqual([expect.stringMatching(/^embedded Job\/\S+ spec: unknown field "bogus"$/)]);
  });
});
