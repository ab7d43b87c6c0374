// MlPlatform.shareRegisteredModel and shareExperiment: what the bootstrap's plan holds, and the
// ValidationError for a bad share. (The grants on the real MLflow: test/cluster/services/tenancy.test.ts;
// the bootstrap's calls: test/programs/test_bootstrap.py.)
import { MlPlatform } from '../../src/cdk8s';
import { TrackingAuth } from '../../src/core';
import { find, synthChart } from '../support/synth';

function plan(build: (p: MlPlatform) => void, auth = TrackingAuth.basic()): any {
  const { objects } = synthChart((chart) => {
    const p = new MlPlatform(chart, 'ml', { namespace: 'mlplatform', tracking: { auth } });
    for (const t of ['a', 'b', 'c']) p.addTenant(t);
    build(p);
  });
  return JSON.parse(find(objects, 'ConfigMap', 'ml-bootstrap', 'mlplatform').data['plan.json']).mlflowUsers;
}

test('shareExperiment: the experiment by name, its owner and readers, for the bootstrap to resolve (MLflow keys experiment permissions by id)', () => {
  const u = plan((p) => {
    p.shareExperiment('vision runs', { owner: 'a', readers: ['b'] });
    p.shareExperiment('vision runs', { owner: 'a', readers: ['c', 'b'] });
    p.shareRegisteredModel('resnet', { owner: 'a', readers: ['b', 'c'] });
  });
  expect(u.experimentShares).toEqual([{ name: 'vision runs', owner: 'a', readers: ['b', 'c'] }]);
  // A registered model's permission is keyed by its name: a plain grant.
  expect(u.grants).toEqual([
    { username: 'b', resourceType: 'registered_model', resourceId: 'resnet', permission: 'READ' },
    { username: 'c', resourceType: 'registered_model', resourceId: 'resnet', permission: 'READ' },
  ]);
  expect(plan(() => undefined).experimentShares).toBeUndefined();
});

test('a bad share is one ValidationError naming each prop and the fix', () => {
  expect(() => plan((p) => p.shareExperiment('', { owner: 'x', readers: ['a', 'a'] }))).toThrow([
    'MlPlatform "ml": shareExperiment(""): 2 invalid props',
    '  - `name` (""): must be the experiment\'s name (1–256 printable characters)',
    '  - `options.owner` ("x"): must be a tenant of this platform (a, b, c); declare it with addTenant first',
  ].join('\n'));
  expect(() => plan((p) => p.shareExperiment('e', { owner: 'a', readers: ['a'] }))).toThrow('`options.readers[0]` ("a"): is the owner, which manages the experiment already');
  expect(() => plan((p) => p.shareExperiment('e', { owner: 'a', readers: [] }))).toThrow('`options.readers` ([]): must list at least one tenant to share with');
  expect(() => plan((p) => {
    p.shareExperiment('e', { owner: 'a', readers: ['c'] });
    p.shareExperiment('e', { owner: 'b', readers: ['c'] });
  })).toThrow('`options.owner` ("b"): differs from the owner of an earlier share of the same experiment (a); an experiment has one owner');
  expect(() => plan((p) => p.shareExperiment('e', { owner: 'a', readers: ['b'] }), TrackingAuth.disabled('a lab cluster behind the VPN'))).toThrow('needs MLflow users: tracking auth is disabled on this platform');
  expect(() => plan((p) => p.shareRegisteredModel('m', { owner: 'a', readers: ['a'] }))).toThrow('`options.readers[0]` ("a"): is the owner, which manages the registered model already');
});
