// The jest test of the template, as its owners write it with `mlplatform/testing`.
// (In this repository it runs through test/examples/template.test.ts.)
import { Chart, Testing } from 'cdk8s';
import { addFineTuneTeam } from './team-template';
import { MlPlatform } from 'mlplatform/cdk8s';
import { checkTemplate, installMatchers } from 'mlplatform/testing';

installMatchers();

/** A throwaway platform with one a10g pool (g5.2xlarge: 8 vCPU, 32 GiB, 1 GPU, $1.212/hour), and the template on it. */
function synth(instanceType = 'g5.2xlarge'): Chart {
  const chart = new Chart(Testing.app(), 'test');
  const platform = new MlPlatform(chart, 'ml');
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType, maxNodes: 2 });
  addFineTuneTeam(chart, platform, { team: 'vision', image: 'ghcr.io/acme/vision:1.4.2', pool: 'a10g' });
  return chart;
}

describe('addFineTuneTeam', () => {
  const chart = synth();

  test('emits valid manifests that meet Pod Security "restricted"', () => {
    expect(chart).toHaveValidManifests();
    expect(chart).toPassPodSecurity('restricted');
  });

  test('fits the pool and the quota it creates, and stays cheap', () => {
    expect(chart).toBeSchedulable();
    expect(chart).toPassChecks();
    expect(chart).toRequestGpus(1, { pool: 'a10g' });
    expect(chart).toStayUnderHourlyCost(1.5);
  });

  test('a pool of nodes too small for the training step is caught before any cluster sees it', () => {
    // g5.xlarge: 16 GiB of which ~13 GiB allocatable, below the step's 16 GiB request
    expect(synth('g5.xlarge')).not.toBeSchedulable();
  });

  test('the manifests, pinned', () => {
    const { manifests, findings } = checkTemplate(chart);
    expect(findings).toEqual([]);
    expect(manifests).toMatchSnapshot();
  });
});
