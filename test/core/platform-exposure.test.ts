import * as fc from 'fast-check';
import { appListenerFor, EndpointExposure, hostnameMatches, isListenerHostname, Issues, PlatformExposure } from '../../src/core';

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const domain = fc.array(label, { minLength: 2, maxLength: 4 }).map((ls) => ls.join('.'));

describe('apps listener host names (Gateway API matching)', () => {
  test('a wildcard matches one or more labels in front of its suffix, never the suffix itself or another domain (fast-check)', () => {
    fc.assert(fc.property(fc.array(label, { minLength: 1, maxLength: 3 }), domain, (prefix, d) => {
      const host = `${prefix.join('.')}.${d}`;
      expect(hostnameMatches(`*.${d}`, host)).toBe(true);
      expect(hostnameMatches(`*.${d}`, d)).toBe(false);
      expect(hostnameMatches(`*.${d}`, `${host}x`)).toBe(false);
      expect(hostnameMatches(host, host)).toBe(true);
    }), { numRuns: 100 });
    // The label boundary counts: `*.example.com` does not match `badexample.com`.
    expect(hostnameMatches('*.example.com', 'badexample.com')).toBe(false);
  });

  test('the most specific listener: exact, then the longest wildcard', () => {
    const listeners = ['*.example.com', '*.models.example.com', 'special.models.example.com'].map((hostname, i) => ({ hostname, sectionName: `apps-${i}-http` }));
    expect(['a.example.com', 'a.models.example.com', 'special.models.example.com', 'x.special.models.example.com', 'example.com', 'a.example.org']
      .map((h) => appListenerFor(listeners, h)?.sectionName)).toEqual(['apps-0-http', 'apps-1-http', 'apps-2-http', 'apps-1-http', undefined, undefined]);
  });

  test('listener host names: one leading wildcard label, at least two labels after it', () => {
    expect(['*.models.example.com', 'models.example.com', 'a.b'].map(isListenerHostname)).toEqual([true, true, true]);
    expect(['*', '*.com', 'models', 'a.*.example.com', '**.example.com', 'Models.example.com', '', 42].map(isListenerHostname)).toEqual([false, false, false, false, false, false, false, false]);
  });
});

describe('EndpointExposure against a hand-built PlatformContext exposure (composability)', () => {
  const platform: PlatformExposure = {
    kind: 'gateway',
    gateway: { name: 'edge', namespace: 'ingress', sectionName: 'https' },
    https: true,
    apps: { name: 'edge', namespace: 'ingress', listeners: [{ hostname: '*.ml.acme.io', sectionName: 'tenants-https' }], https: true, proxyNamespace: 'edge-proxies' },
  };

  test('no `gateway`: the listener of the context, its proxy namespace admitted', () => {
    const issues = new Issues('t');
    const spec = EndpointExposure.gateway({ host: 'iris.ml.acme.io', grpcHost: 'iris-grpc.ml.acme.io' })._resolve(issues, 'exposure', platform);
    expect(issues.all).toEqual([]);
    expect(spec).toEqual({
      kind: 'gateway',
      host: 'iris.ml.acme.io',
      gateway: { name: 'edge', namespace: 'ingress', sectionName: 'tenants-https' },
      path: '/',
      requestTimeout: undefined,
      proxyNamespaces: ['edge-proxies'],
      grpc: { host: 'iris-grpc.ml.acme.io', gateway: { name: 'edge', namespace: 'ingress', sectionName: 'tenants-https' } },
    });
  });

  test('a named Gateway ignores the context: Envoy Gateway\'s and the Gateway\'s namespaces', () => {
    const issues = new Issues('t');
    const spec = EndpointExposure.gateway({ host: 'iris.example.com', gateway: { name: 'public', namespace: 'gateways' } })._resolve(issues, 'exposure', platform);
    expect(issues.all).toEqual([]);
    expect(spec).toMatchObject({ gateway: { name: 'public', namespace: 'gateways' }, proxyNamespaces: ['envoy-gateway-system', 'gateways'] });
  });

  test('an Ingress platform exposure has no Gateway to default to', () => {
    const issues = new Issues('t');
    EndpointExposure.gateway({ host: 'iris.ml.acme.io' })._resolve(issues, 'exposure', { kind: 'ingress', className: 'traefik' });
    expect(issues.all.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'exposure.gateway: is required: the platform has no Gateway (its exposure is an Ingress); or name the Gateway { name, namespace } the route attaches to',
    ]);
  });
});
