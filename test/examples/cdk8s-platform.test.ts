import { Testing } from 'cdk8s';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { expectValidManifests } from '../support/expect-valid';
import { findAll, K8sObject } from '../support/synth';

// The README example (what `npm run synth` writes): every object passes strict validation and PSS
// restricted, and the whole output is pinned by a snapshot.
describe('examples/cdk8s-platform', () => {
  const objects = buildExample(Testing.app()).chart.toJson() as K8sObject[];

  test('synthesizes valid objects', () => {
    expectValidManifests(objects);
  });

  test('uses every construct', () => {
    expect(findAll(objects, 'argoproj.io/v1alpha1/WorkflowTemplate').length).toBeGreaterThanOrEqual(1);
    expect(findAll(objects, 'argoproj.io/v1alpha1/CronWorkflow').length).toBeGreaterThanOrEqual(1);
    expect(findAll(objects, 'Deployment').map((d) => d.metadata.name)).toContain('ml-tracking');
    expect(findAll(objects, 'gateway.networking.k8s.io/v1/HTTPRoute').map((r) => r.metadata.name)).toContain('ml-tracking');
    expect(findAll(objects, 'HTTPRoute').length).toBeGreaterThanOrEqual(2);
    expect(findAll(objects, 'PrometheusRule').length).toBeGreaterThanOrEqual(1);
    // TuningSweep: the study-creation Job and the Indexed worker Job.
    expect(findAll(objects, 'Job').filter((j) => j.spec.completionMode === 'Indexed').length).toBeGreaterThanOrEqual(1);
  });

  test('snapshot', () => {
    expect(objects).toMatchSnapshot();
  });
});
