// K8sObject's one-pass toJson must give exactly what cdk8s's ApiObject.toJson gives for the same props.
import { ApiObject, App, Chart, IResolver, JsonPatch, Lazy, ResolutionContext } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import * as fc from 'fast-check';
import { K8sObject, kube, KUBE } from '../../src/cdk8s/private/object';

/** JSON-ish values as renderers build them: nulls and undefineds to drop, Lazy values, empty maps and lists. */
const leaf = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.constant(undefined));
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), tie('value'), { maxKeys: 5, noNullPrototype: true }),
    tie('value').map((v) => Lazy.any({ produce: () => v })),
  ),
}));
const body = fc.dictionary(fc.constantFrom('spec', 'data', 'rules', 'subjects', 'roleRef', 'aaa', 'zzz', 'status'), value, { maxKeys: 4, noNullPrototype: true });
const metadata = fc.record({
  name: fc.constantFrom('a', 'b-1'),
  namespace: fc.option(fc.constantFrom('ns', 'other'), { nil: undefined }),
  labels: fc.option(fc.dictionary(fc.constantFrom('app', 'tier', 'x/y'), fc.string({ maxLength: 4 }), { noNullPrototype: true }), { nil: undefined }),
  annotations: fc.option(fc.dictionary(fc.constantFrom('a', 'b'), fc.string({ maxLength: 4 }), { noNullPrototype: true }), { nil: undefined }),
}, { requiredKeys: ['name'] });

/** Changes to an object's metadata after construction, as users and other constructs make them. */
type MetadataOp = (o: ApiObject) => void;
const metadataOp: fc.Arbitrary<MetadataOp> = fc.oneof(
  fc.tuple(fc.constantFrom('app', 'new/label'), fc.string({ maxLength: 3 })).map(([k, v]) => (o: ApiObject) => o.metadata.addLabel(k, v)),
  fc.tuple(fc.constantFrom('a', 'note'), fc.string({ maxLength: 3 })).map(([k, v]) => (o: ApiObject) => o.metadata.addAnnotation(k, v)),
  fc.array(fc.constantFrom('f1', 'f2'), { maxLength: 2 }).map((fs) => (o: ApiObject) => o.metadata.addFinalizers(...fs)),
  fc.constant((o: ApiObject) => o.metadata.addOwnerReference({ apiVersion: 'v1', kind: 'Thing', name: 'owner', uid: 'u-1' })),
  fc.tuple(fc.constantFrom('generateName', 'extra'), value).map(([k, v]) => (o: ApiObject) => o.metadata.add(k, v)),
);

function both(props: Record<string, unknown>, app?: () => App, ops: readonly MetadataOp[] = []): [unknown, unknown] {
  const make = app ?? (() => new App());
  const a = new Chart(make(), 'c', { labels: { chart: 'label' } });
  const b = new Chart(make(), 'c', { labels: { chart: 'label' } });
  const full = { apiVersion: 'example.com/v1', kind: 'Thing', ...props } as any;
  const fast = new K8sObject(a, 'o', full);
  const reference = new ApiObject(b, 'o', full);
  for (const op of ops) {
    op(fast);
    op(reference);
  }
  return [fast.toJson(), reference.toJson()];
}

describe('K8sObject.toJson', () => {
  test('equals ApiObject.toJson for any props and metadata changes (Lazy values, nulls, empty maps, nesting, key order)', () => {
    fc.assert(fc.property(body, metadata, fc.array(metadataOp, { maxLength: 4 }), (b, m, ops) => {
      const [fast, reference] = both({ ...b, metadata: m }, undefined, ops);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(reference));
    }), { numRuns: 2000 });
  });

  test('orders keys as Array.prototype.sort does: any Unicode (surrogate pairs), numeric-like keys, maps of up to 40 keys', () => {
    // Small key lists are ordered by insertion, long ones (more than 24) by sort(): both must give sort()'s order.
    const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.nat({ max: 300 }).map(String), fc.constantFrom('a', 'B', '_', '-', 'é', '😀', '\uffff'));
    const map = fc.dictionary(key, fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null)), { maxKeys: 40, size: 'max', noNullPrototype: true });
    fc.assert(fc.property(map, map, (data, nested) => {
      const [fast, reference] = both({ metadata: { name: 'n', labels: { ...data } }, data, spec: { nested, list: [nested] } });
      expect(JSON.stringify(fast)).toBe(JSON.stringify(reference));
    }), { numRuns: 1000 });
  });

  test('keeps the top-level order apiVersion, kind, metadata, then sorted keys', () => {
    const [fast] = both({ zeta: 1, alpha: { b: 2, a: 1 }, metadata: { name: 'n' } });
    expect(Object.keys(fast as object)).toEqual(['apiVersion', 'kind', 'metadata', 'alpha', 'zeta']);
    expect(Object.keys((fast as any).alpha)).toEqual(['a', 'b']);
  });

  test('applies JSON patches (falls back to ApiObject.toJson)', () => {
    const chart = new Chart(new App(), 'c');
    const o = new K8sObject(chart, 'o', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } });
    o.addJsonPatch(JsonPatch.add('/data/b', '2'));
    expect(o.toJson().data).toEqual({ a: '1', b: '2' });
  });

  test('calls an App\'s own resolvers (falls back to ApiObject.toJson)', () => {
    class Upper implements IResolver {
      public resolve(context: ResolutionContext): void {
        if (typeof context.value === 'string' && context.value.startsWith('up:')) context.replaceValue(context.value.slice(3).toUpperCase());
      }
    }
    const [fast, reference] = both({ metadata: { name: 'n' }, data: { a: 'up:x' } }, () => new App({ resolvers: [new Upper()] }));
    expect((fast as any).data.a).toBe('X');
    expect(fast).toEqual(reference);
  });

  test('rejects a class instance in the props, naming the construct path', () => {
    class Opaque { public readonly x = 1; }
    const chart = new Chart(new App(), 'c');
    const o = new K8sObject(chart, 'o', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: new Opaque() } });
    expect(() => o.toJson()).toThrow(/c\/o.*non-simple object of type 'Opaque'/);
  });

  test('every kind of KUBE has the apiVersion and kind of its cdk8s-plus-27 L1 class', () => {
    const classes = k8s as unknown as Record<string, { GVK?: { apiVersion: string; kind: string } }>;
    expect(Object.keys(KUBE).length).toBeGreaterThanOrEqual(17);
    for (const [name, kind] of Object.entries(KUBE)) {
      expect([name, { apiVersion: kind.apiVersion, kind: kind.kind }]).toEqual([name, { apiVersion: classes[`Kube${name}`]?.GVK?.apiVersion, kind: classes[`Kube${name}`]?.GVK?.kind }]);
    }
  });

  test('kube() takes the kind from KUBE, and the JSON field names', () => {
    const chart = new Chart(new App(), 'c');
    const svc = kube(chart, 'svc', KUBE.Service, { metadata: { name: 's' }, spec: { clusterIP: 'None', ports: [{ port: 80, targetPort: 'http' }] } });
    expect(svc).toBeInstanceOf(K8sObject);
    expect(svc.toJson()).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: 'None', ports: [{ port: 80, targetPort: 'http' }] } });
  });
});
