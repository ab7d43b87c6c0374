// Server environment of ModelEndpoint versions: a user value for a name the runtime also sets
// (vLLM's cache and Hub variables) replaces the runtime's default, so each name appears once.
import { MlPlatform, ModelEndpoint, ModelEndpointProps } from '../../src/cdk8s';
import { Cpu, ModelSource, Runtime, Size } from '../../src/core';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject, synthChart } from '../support/synth';

const model = ModelSource.registry('llama', { alias: 'champion' });

/** A platform with an a10g pool and tenant `nlp`, plus the endpoint `llm`; every object validated strictly. */
function synth(props: Omit<ModelEndpointProps, 'platform' | 'namespace'>): K8sObject[] {
  const { objects } = synthChart((chart) => {
    const platform = new MlPlatform(chart, 'ml', {});
    platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
    platform.addTenant('nlp', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: 4 } } });
    new ModelEndpoint(chart, 'llm', { platform, namespace: 'nlp', ...props });
  });
  expectValidManifests(objects);
  return objects;
}

function serverEnv(objects: K8sObject[], deployment: string): { name: string; value?: string }[] {
  const spec = find(objects, 'Deployment', deployment).spec.template.spec;
  return spec.containers.find((c: any) => c.name === 'server').env;
}

const vllm = { runtime: Runtime.vllm(), resources: { pool: 'a10g', gpus: 1, cpu: Cpu.cores(2), memory: Size.gibibytes(8) } };

describe('ModelEndpoint server env', () => {
  test('vLLM: a user HF_HOME replaces the runtime default in place (one HF_HOME, strict-valid)', () => {
    const env = serverEnv(synth({ ...vllm, env: { HF_HOME: '/tmp/hf', LOG_LEVEL: 'debug' }, versions: [{ name: 'stable', model }] }), 'llm-stable');
    expect(env.filter((e) => e.name === 'HF_HOME')).toEqual([{ name: 'HF_HOME', value: '/tmp/hf' }]);
    // The other runtime defaults stay, in their place; names the runtime does not set come after them.
    const names = env.map((e) => e.name);
    expect(names.slice(names.indexOf('HF_HUB_OFFLINE'))).toEqual(['HF_HUB_OFFLINE', 'HF_HOME', 'XDG_CACHE_HOME', 'VLLM_CACHE_ROOT', 'VLLM_NO_USAGE_STATS', 'LOG_LEVEL']);
    expect(new Set(names).size).toBe(names.length);
  });

  test('vLLM: every runtime default can be overridden, per version too', () => {
    const overrides = { HF_HUB_OFFLINE: '0', HF_HOME: '/tmp/a', XDG_CACHE_HOME: '/tmp/b', VLLM_CACHE_ROOT: '/tmp/c', VLLM_NO_USAGE_STATS: '0' };
    const env = serverEnv(synth({ ...vllm, versions: [{ name: 'stable', model, env: overrides }] }), 'llm-stable');
    for (const [name, value] of Object.entries(overrides)) expect(env.filter((e) => e.name === name)).toEqual([{ name, value }]);
  });

  test('vLLM without a user env keeps the runtime defaults', () => {
    const env = serverEnv(synth({ ...vllm, versions: [{ name: 'stable', model }] }), 'llm-stable');
    expect(env).toEqual(expect.arrayContaining([{ name: 'HF_HOME', value: '/tmp/huggingface' }, { name: 'HF_HUB_OFFLINE', value: '1' }]));
  });

  test('HOME, MODEL_DIR and MODEL_NAME stay reserved', () => {
    const e = validationError(() => synth({ ...vllm, env: { HOME: '/tmp/x' }, versions: [{ name: 'stable', model }] }));
    expect(e.issues.map((i) => i.path)).toContain('env.HOME');
    expect(e.message).toContain('`env.HOME`');
    expect(e.message).toContain('must be an environment variable name other than MODEL_DIR, MODEL_NAME, HOME');
  });
});
