import { MlPlatform, MlPlatformProps } from '../../src/cdk8s';
import { ModelEndpoint, ModelEndpointProps } from '../../src/cdk8s/model-endpoint';
import { Cpu, Exposure, Size } from '../../src/core';
import { EndpointExposure, ModelSource, Runtime, Scaling } from '../../src/core/endpoint';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

const APPS_TLS: MlPlatformProps = {
  exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt-dns' }, apps: { hostnames: ['*.models.example.com'] } }),
};
const GATEWAY = { group: 'gateway.networking.k8s.io', kind: 'Gateway' };
const ns = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });

/** Triton on CPU: a stable version, a 25% canary and a 10% shadow. */
const triton: Omit<ModelEndpointProps, 'namespace' | 'exposure'> = {
  runtime: Runtime.triton({ gpu: false }),
  resources: { cpu: Cpu.cores(1), memory: Size.gibibytes(2) },
  scaling: Scaling.fixed(1),
  versions: [
    { name: 'stable', stable: true, model: ModelSource.registry('resnet50', { alias: 'champion' }) },
    { name: 'canary', weight: 25, model: ModelSource.registry('resnet50', { alias: 'challenger' }) },
    { name: 'shadow', mirrorPercent: 10, model: ModelSource.registry('resnet50', { alias: 'candidate' }) },
  ],
};

/** Every object of a platform (tenant `vision`) and one endpoint `resnet50` in it. */
function synth(exposure: EndpointExposure, platformProps: MlPlatformProps = APPS_TLS, props: Omit<ModelEndpointProps, 'namespace' | 'exposure'> = triton): K8sObject[] {
  return synthChart((chart) => {
    const platform = new MlPlatform(chart, 'ml', platformProps);
    platform.addTenant('vision');
    new ModelEndpoint(chart, 'resnet50', { platform, namespace: 'vision', exposure, ...props });
  }).objects;
}

describe('ModelEndpoint on the platform Gateway', () => {
  test('no `gateway`: the routes attach to the apps listener of the host, and only the Envoy Gateway proxies are admitted', () => {
    const objects = synth(EndpointExposure.gateway({ host: 'resnet50.models.example.com', grpcHost: 'resnet50-grpc.models.example.com' }));
    expectValidManifests(objects);
    expect(['HTTPRoute', 'GRPCRoute', 'NetworkPolicy'].map((kind) => find(objects, kind, kind === 'NetworkPolicy' ? 'resnet50-ingress' : 'resnet50', 'vision'))).toMatchSnapshot();
    const parentRefs = [{ ...GATEWAY, name: 'mlplatform', namespace: 'mlplatform', sectionName: 'apps-0-https' }];
    const http = find(objects, 'HTTPRoute', 'resnet50', 'vision');
    expect(http.spec.parentRefs).toEqual(parentRefs);
    expect(http.spec.hostnames).toEqual(['resnet50.models.example.com']);
    const grpc = find(objects, 'GRPCRoute', 'resnet50', 'vision');
    expect(grpc.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(grpc.spec).toEqual({
      parentRefs,
      hostnames: ['resnet50-grpc.models.example.com'],
      rules: [{
        name: 'serve',
        filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'resnet50-shadow', port: 8001 }, percent: 10 } }],
        backendRefs: [
          { group: '', kind: 'Service', name: 'resnet50-stable', port: 8001, weight: 75 },
          { group: '', kind: 'Service', name: 'resnet50-canary', port: 8001, weight: 25 },
        ],
      }],
    });
    // The backends' Services carry the gRPC port the GRPCRoute names, as h2c.
    expect(find(objects, 'Service', 'resnet50-canary').spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'grpc', port: 8001, appProtocol: 'kubernetes.io/h2c' })]));
    const serving = [{ protocol: 'TCP', port: 'http' }, { protocol: 'TCP', port: 'grpc' }];
    expect(find(objects, 'NetworkPolicy', 'resnet50-ingress').spec.ingress[1]).toEqual({ from: [ns('envoy-gateway-system')], ports: serving });
    // The listener it lands on admits the tenant namespace the routes live in.
    const listener = find(objects, 'Gateway', 'mlplatform').spec.listeners.find((l: any) => l.name === 'apps-0-https');
    expect(listener.allowedRoutes.namespaces.selector.matchLabels).toEqual({ 'app.kubernetes.io/part-of': 'ml' });
    expect(find(objects, 'Namespace', 'vision').metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'ml', 'mlplatform.io/tenant': 'vision' });
  });

  test('the most specific apps listener wins: an exact host name over a wildcard, a longer wildcard over a shorter one', () => {
    const platformProps = { exposure: Exposure.gateway({ host: 'mlflow.example.com', apps: { hostnames: ['*.example.com', '*.models.example.com', 'special.models.example.com'] } }) };
    const section = (host: string) => find(synth(EndpointExposure.gateway({ host }), platformProps, { versions: [{ name: 'stable', model: ModelSource.registry('m') }] }), 'HTTPRoute', 'resnet50').spec.parentRefs[0].sectionName;
    expect(['a.example.com', 'a.models.example.com', 'special.models.example.com', 'b.special.models.example.com'].map(section))
      .toEqual(['apps-0-http', 'apps-1-http', 'apps-2-http', 'apps-1-http']);
  });

  test('the proxy namespace follows the platform\'s Envoy Gateway namespace', () => {
    const objects = synth(EndpointExposure.gateway({ host: 'resnet50.models.example.com' }), { ...APPS_TLS, versions: { charts: { envoyGateway: { namespace: 'edge' } } } });
    expectValidManifests(objects);
    expect(find(objects, 'NetworkPolicy', 'resnet50-ingress').spec.ingress[1].from).toEqual([ns('edge')]);
    expect(findAll(objects, 'GRPCRoute')).toEqual([]);
  });

  test('a Gateway the user names: both routes on it; Envoy Gateway\'s and the Gateway\'s namespaces admitted', () => {
    const objects = synth(EndpointExposure.gateway({ host: 'resnet50.example.com', grpcHost: 'grpc.resnet50.example.com', gateway: { name: 'inference', namespace: 'gateways', sectionName: 'https' } }), {});
    expectValidManifests(objects);
    const parentRefs = [{ ...GATEWAY, name: 'inference', namespace: 'gateways', sectionName: 'https' }];
    expect(find(objects, 'HTTPRoute', 'resnet50').spec.parentRefs).toEqual(parentRefs);
    expect(find(objects, 'GRPCRoute', 'resnet50').spec.parentRefs).toEqual(parentRefs);
    expect(find(objects, 'NetworkPolicy', 'resnet50-ingress').spec.ingress[1].from).toEqual([ns('envoy-gateway-system'), ns('gateways')]);
  });

  test('a custom runtime with a gRPC port and a fractional shadow: `fraction` on the GRPCRoute mirror', () => {
    const custom = Runtime.custom({ image: 'ghcr.io/acme/server:1.2.0', port: 8080, grpcPort: 9000, protocol: 'custom', healthPaths: { liveness: '/live', readiness: '/ready' } });
    const objects = synth(EndpointExposure.gateway({ host: 'm.models.example.com', grpcHost: 'm-grpc.models.example.com' }), APPS_TLS, {
      runtime: custom,
      versions: [{ name: 'stable', model: ModelSource.baked() }, { name: 'shadow', mirrorPercent: 0.5, model: ModelSource.baked() }],
    });
    expectValidManifests(objects);
    const [rule] = find(objects, 'GRPCRoute', 'resnet50').spec.rules;
    expect(rule.backendRefs).toEqual([{ group: '', kind: 'Service', name: 'resnet50-stable', port: 9000, weight: 100 }]);
    expect(rule.filters[0].requestMirror).toEqual({ backendRef: { group: '', kind: 'Service', name: 'resnet50-shadow', port: 9000 }, fraction: { numerator: 50, denominator: 10000 } });
  });
});

describe('ModelEndpoint exposure: bad input fails with the fix', () => {
  const error = (exposure: EndpointExposure, platformProps: MlPlatformProps = APPS_TLS, props = triton) => validationError(() => synth(exposure, platformProps, props));

  test('no `gateway` and no apps listeners on the platform', () => {
    const e = error(EndpointExposure.gateway({ host: 'resnet50.models.example.com', grpcHost: 'grpc.models.example.com' }), { exposure: Exposure.gateway({ host: 'mlflow.example.com' }) });
    expect(e.message).toBe([
      'ModelEndpoint "resnet50": 1 invalid prop',
      '  - `exposure.gateway` (undefined): is required: the platform\'s Gateway has no apps listeners (give its Exposure.gateway(...) `apps: { hostnames: [\'*.models.example.com\'] }`); or name the Gateway { name, namespace } the route attaches to',
    ].join('\n'));
  });

  test('no `gateway` and no platform', () => {
    const e = validationError(() => synthChart((chart) => new ModelEndpoint(chart, 'm', {
      namespace: 'ml',
      exposure: EndpointExposure.gateway({ host: 'm.models.example.com' }),
      versions: [{ name: 'stable', model: ModelSource.uri('s3://models/m/1', { credentials: { accessKeyId: { name: 's3', key: 'id' }, secretAccessKey: { name: 's3', key: 'secret' } } }) }],
    })));
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'exposure.gateway: is required: without a platform there is no Gateway to default to; or name the Gateway { name, namespace } the route attaches to',
    ]);
  });

  test('hosts outside the apps listeners, the tracking host, a gRPC host equal to the HTTP one', () => {
    const outside = error(EndpointExposure.gateway({ host: 'resnet50.example.org', grpcHost: 'grpc.example.org' }));
    expect(outside.issues.map((i) => `${i.path} (${i.value}): ${i.message}`)).toEqual([
      'exposure.host (resnet50.example.org): matches none of the platform Gateway\'s apps host names (*.models.example.com); use a host under one of them, or name a `gateway`',
      'exposure.grpcHost (grpc.example.org): matches none of the platform Gateway\'s apps host names (*.models.example.com); use a host under one of them, or name a `gateway`',
    ]);
    const tracking = error(EndpointExposure.gateway({ host: 'mlflow.example.com' }), { exposure: Exposure.gateway({ host: 'mlflow.example.com', apps: { hostnames: ['*.example.com'] } }) }, { versions: [{ name: 'stable', model: ModelSource.registry('m') }] });
    expect(tracking.message).toContain('`exposure.host` ("mlflow.example.com"): is the tracking UI\'s host on the platform Gateway; choose a host under the apps listeners');
    const same = error(EndpointExposure.gateway({ host: 'r.models.example.com', grpcHost: 'r.models.example.com' }));
    expect(same.issues.map((i) => i.path)).toEqual(['exposure.grpcHost']);
    expect(same.message).toContain('must differ from `host`: on one listener Gateway API gives a host name to either an HTTPRoute or a GRPCRoute, never both');
    expect(error(EndpointExposure.gateway({ host: 'r.models.example.com', grpcHost: 'grpc' })).message)
      .toContain('`exposure.grpcHost` ("grpc"): must be a fully qualified host name such as "resnet50-grpc.models.example.com"');
  });

  test('a gRPC host on versions without a gRPC port', () => {
    const e = error(EndpointExposure.gateway({ host: 'r.models.example.com', grpcHost: 'r-grpc.models.example.com' }), APPS_TLS, {
      versions: [
        { name: 'stable', model: ModelSource.registry('m') },
        { name: 'triton', weight: 10, runtime: Runtime.triton({ gpu: false }), model: ModelSource.registry('m', { alias: 'next' }) },
        { name: 'shadow', mirrorPercent: 5, model: ModelSource.registry('m', { alias: 'cand' }) },
      ],
    });
    expect(e.issues.map((i) => `${i.path} (${i.value}): ${i.message}`)).toEqual([
      'exposure.grpcHost (r-grpc.models.example.com): needs a gRPC port on every routed version, but "stable" (Runtime.mlflow()), "shadow" (Runtime.mlflow()) have none: use Runtime.triton() (gRPC on 8001) or a custom runtime with `grpcPort`, or drop `grpcHost`',
    ]);
  });
});
