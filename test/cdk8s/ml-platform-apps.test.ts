import { MlPlatform, MlPlatformProps } from '../../src/cdk8s';
import { Exposure } from '../../src/core';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject, synthChart } from '../support/synth';

/** The selector of the platform `ml`'s tenant namespaces (the labels renderTenant sets on each). */
const TENANTS = { matchLabels: { 'app.kubernetes.io/part-of': 'ml' }, matchExpressions: [{ key: 'mlplatform.io/tenant', operator: 'Exists' }] };
const ROUTE_KINDS = [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' }];

function platform(props: MlPlatformProps): { objects: K8sObject[]; ml: MlPlatform } {
  let ml!: MlPlatform;
  const { objects } = synthChart((chart) => {
    ml = new MlPlatform(chart, 'ml', props);
    ml.addTenant('vision');
  });
  return { objects, ml };
}

describe('MlPlatform: apps listeners on the platform Gateway', () => {
  test('with TLS: an HTTP and an HTTPS listener per host name, HTTPS admitting tenant namespaces only, HTTP only the redirect to HTTPS, one certificate Secret each', () => {
    const { objects, ml } = platform({
      exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt-dns' }, apps: { hostnames: ['*.models.example.com', 'demo.example.org'] } }),
    });
    expectValidManifests(objects);
    const gw = find(objects, 'Gateway', 'mlplatform', 'mlplatform');
    expect(gw.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt-dns' });
    const [http, https, ...apps] = gw.spec.listeners;
    // The tracking listeners keep admitting the platform namespace only.
    expect([http.name, http.hostname, http.allowedRoutes, https.name, https.allowedRoutes]).toEqual(['http', 'mlflow.example.com', { namespaces: { from: 'Same' } }, 'https', { namespaces: { from: 'Same' } }]);
    const allowedRoutes = { namespaces: { from: 'Selector', selector: TENANTS }, kinds: ROUTE_KINDS };
    const redirectOnly = { namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] };
    expect(apps).toEqual([
      { name: 'apps-0-http', protocol: 'HTTP', port: 80, hostname: '*.models.example.com', allowedRoutes: redirectOnly },
      { name: 'apps-0-https', protocol: 'HTTPS', port: 443, hostname: '*.models.example.com', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'mlplatform-apps-0-tls' }] }, allowedRoutes },
      { name: 'apps-1-http', protocol: 'HTTP', port: 80, hostname: 'demo.example.org', allowedRoutes: redirectOnly },
      { name: 'apps-1-https', protocol: 'HTTPS', port: 443, hostname: 'demo.example.org', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'mlplatform-apps-1-tls' }] }, allowedRoutes },
    ]);
    // The selector matches the labels the tenant's Namespace really carries.
    const ns = find(objects, 'Namespace', 'vision');
    expect(ns.metadata.labels).toMatchObject(TENANTS.matchLabels);
    expect(Object.keys(ns.metadata.labels!)).toContain('mlplatform.io/tenant');
    expect(find(objects, 'Namespace', 'mlplatform').metadata.labels?.['mlplatform.io/tenant']).toBeUndefined();
    // cert-manager issues certificates for Gateway listeners only with its Gateway API support on.
    expect(find(objects, 'Application', 'cert-manager').spec.source.helm.valuesObject.config).toMatchObject({ enableGatewayAPI: true });
    expect(gw).toMatchSnapshot();
    // Plain HTTP answers 301 to HTTPS on every host name: one route in the platform namespace, on each HTTP listener.
    const redirect = find(objects, 'HTTPRoute', 'ml-tracking-https-redirect', 'mlplatform').spec;
    expect(redirect.parentRefs.map((p: any) => p.sectionName)).toEqual(['http', 'apps-0-http', 'apps-1-http']);
    expect(redirect.hostnames).toEqual(['mlflow.example.com', '*.models.example.com', 'demo.example.org']);
    expect(redirect.rules).toEqual([{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }]);
    expect(ml.context.exposure).toEqual({
      kind: 'gateway',
      gateway: { name: 'mlplatform', namespace: 'mlplatform', sectionName: 'https' },
      https: true,
      host: 'mlflow.example.com',
      apps: {
        name: 'mlplatform',
        namespace: 'mlplatform',
        listeners: [{ hostname: '*.models.example.com', sectionName: 'apps-0-https' }, { hostname: 'demo.example.org', sectionName: 'apps-1-https' }],
        https: true,
        proxyNamespace: 'envoy-gateway-system',
      },
    });
  });

  test('plain HTTP: routes attach to the HTTP listener; the proxy namespace follows the Envoy Gateway chart namespace', () => {
    const { objects, ml } = platform({
      namespace: 'platform',
      exposure: Exposure.gateway({ host: 'mlflow.example.com', apps: { hostnames: ['*.apps.example.com'] } }),
      versions: { charts: { envoyGateway: { namespace: 'edge' } } },
    });
    expectValidManifests(objects);
    expect(find(objects, 'Gateway', 'mlplatform').spec.listeners.map((l: any) => [l.name, l.protocol, l.hostname])).toEqual([
      ['http', 'HTTP', 'mlflow.example.com'], ['apps-0-http', 'HTTP', '*.apps.example.com'],
    ]);
    expect(ml.context.exposure).toMatchObject({ kind: 'gateway', https: false, apps: { namespace: 'platform', listeners: [{ hostname: '*.apps.example.com', sectionName: 'apps-0-http' }], https: false, proxyNamespace: 'edge' } });
  });

  test('without apps: no apps listeners and no apps in the context', () => {
    const { objects, ml } = platform({ exposure: Exposure.gateway({ host: 'mlflow.example.com' }) });
    expect(find(objects, 'Gateway', 'mlplatform').spec.listeners.map((l: any) => l.name)).toEqual(['http']);
    expect(ml.context.exposure).toEqual({ kind: 'gateway', gateway: { name: 'mlplatform', namespace: 'mlplatform', sectionName: 'http' }, https: false, host: 'mlflow.example.com' });
  });

  test('bad apps host names, and apps on a Gateway the user names, fail with the fix', () => {
    const bad = validationError(() => platform({
      exposure: Exposure.gateway({ host: 'mlflow.example.com', apps: { hostnames: ['*.models.example.com', 'models', '*.models.example.com', 'mlflow.example.com', 'a.*.example.com'] } }),
    }));
    expect(bad.message).toBe([
      'MlPlatform "ml": 4 invalid props',
      '  - `exposure.apps.hostnames[1]` ("models"): must be a fully qualified host name, or "*." followed by one (e.g. "*.models.example.com")',
      '  - `exposure.apps.hostnames[2]` ("*.models.example.com"): is listed twice; list each host name once',
      '  - `exposure.apps.hostnames[3]` ("mlflow.example.com"): is the tracking UI\'s host, which has listeners of its own; choose another (e.g. "*.models.example.com")',
      '  - `exposure.apps.hostnames[4]` ("a.*.example.com"): must be a fully qualified host name, or "*." followed by one (e.g. "*.models.example.com")',
    ].join('\n'));
    const empty = validationError(() => platform({ exposure: Exposure.gateway({ host: 'mlflow.example.com', apps: { hostnames: [] } }) }));
    expect(empty.message).toContain('`exposure.apps.hostnames` ([]): must list 1 to 16 host names, e.g. ["*.models.example.com"]');
    const named = validationError(() => platform({ exposure: Exposure.gateway({ host: 'mlflow.example.com', gateway: { name: 'public', namespace: 'gateways' }, apps: { hostnames: ['*.models.example.com'] } }) }));
    expect(named.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'exposure.apps: applies only to the Gateway the platform creates; drop `gateway`, or drop `apps` and name your Gateway in each endpoint and dashboard',
    ]);
  });
});
