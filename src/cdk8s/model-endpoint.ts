import { Construct } from 'constructs';
import { checksWiring } from './checks';
import { MlPlatform } from './ml-platform';
import { Issues, PlatformContext } from '../core';
import { CheckSeverities, endpointDataAccess, endpointDemands, resolveCheckSeverities } from '../core/checks';
import { assertPropShapes } from '../core/prop-shapes';
import { renderInferenceService } from './private/endpoint-kserve';
import { renderMonitoring } from './private/endpoint-monitoring';
import { endpointLabels } from './private/endpoint-pod';
import { renderEndpointNetwork, renderRouting } from './private/endpoint-routing';
import { READ_SCOPE_ANNOTATION, renderVersion } from './private/endpoint-version';
import { ModelEndpointOptions, ModelEndpointSpec, resolveModelEndpoint } from '../core/endpoint';

/** Props of {@link ModelEndpoint}. */
export interface ModelEndpointProps extends ModelEndpointOptions {
  /**
   * The platform: its tracking server (registry sources), store (URI and registry sources), GPU pools
   * (placement), tenants (`namespace` must be one) and add-ons (KEDA, KServe). An MlPlatform, or a
   * PlatformContext built by hand for services you run yourself.
   * @default none: URI sources then need their own credentials, registry sources are rejected
   */
  readonly platform?: MlPlatform | PlatformContext;
  /**
   * Severity of the synth-time checks for this endpoint, over the platform's `checks`: e.g.
   * `{ capacity: 'error' }` to fail synthesis when `maxReplicas` × GPUs exceeds the pool.
   * @default the platform's, else every check at its own severity (see docs/checks.md)
   */
  readonly checks?: CheckSeverities;
}

/**
 * A served model, for any Kubernetes cluster.
 *
 * Creates, per version (`<endpoint>-<version>`): a ServiceAccount (its read scope and
 * workload-identity annotations), a Deployment (rolling update with one surge and none
 * unavailable; an init container that fetches the model with credentials only it sees; startup,
 * readiness and liveness probes sized by the start-up budget; a drain delay; GPU placement), a
 * Service, a PodDisruptionBudget, and an HPA (CPU) or a KEDA ScaledObject (request rate or
 * concurrency from Prometheus, optionally scaling to zero). Per endpoint: a Service `<endpoint>`
 * to the stable version, one HTTPRoute carrying the weighted split and the mirrors (or an
 * Ingress), a NetworkPolicy admitting the gateway, the namespace and Prometheus, ServiceMonitors
 * and a PrometheusRule (error ratio, latency, saturation). With `kserve: true`, one KServe
 * InferenceService (Standard mode) replaces the Deployments, Services, autoscalers, PDBs and route.
 *
 * Every prop is validated once; bad props fail with one ValidationError naming each path.
 */
export class ModelEndpoint extends Construct {
  /** The validated endpoint (versions, traffic plan, exposure, monitoring). */
  public readonly spec: ModelEndpointSpec;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    assertPropShapes(`ModelEndpoint "${id}"`, 'ModelEndpoint', props);
    const platform = props.platform instanceof MlPlatform ? props.platform.context : props.platform;
    // The platform's version table (its overrides, and Triton/vLLM once VERSIONS carries them).
    const images = props.platform instanceof MlPlatform ? props.platform.versions.images : undefined;
    const checkIssues = new Issues(`ModelEndpoint "${id}"`);
    const checks = resolveCheckSeverities(checkIssues, 'checks', props.checks);
    checkIssues.throwIfAny();
    this.spec = resolveModelEndpoint(id, props, { platform, images });
    const e = this.spec;
    // GPU fit, pool capacity, tenant quota and model access are synth-time checks (src/cdk8s/checks.ts).
    const severities = Object.assign({}, props.platform instanceof MlPlatform ? props.platform.checkSeverities : {}, checks);
    checksWiring.register(this, () => ({
      demands: endpointDemands(e),
      dataAccess: endpointDataAccess(e, checksWiring.grantsOf(this)).map((a, i) => {
        const readScope = checksWiring.annotationsOf(this, e.versions[i].name, 'sa')?.[READ_SCOPE_ANNOTATION];
        const readScopes = readScope?.startsWith('s3://') ? [readScope] : [];
        return Object.assign({}, a, { identity: { serviceAccount: e.versions[i].objectName, readScopes } });
      }),
      target: platform,
      severities,
    }));
    const partOf = platform?.name ?? e.name;
    const labels = endpointLabels(e, partOf);
    if (e.kserve) {
      for (const v of e.versions) renderVersion(this, e, v, { platform: partOf, serviceAccountOnly: true });
      renderInferenceService(this, e, labels, { platform: partOf, prometheusUrl: e.prometheus.url });
    } else {
      for (const v of e.versions) renderVersion(this, e, v, { platform: partOf, prometheusUrl: e.prometheus.url });
      renderRouting(this, e, labels, partOf);
    }
    renderEndpointNetwork(this, e, labels);
    renderMonitoring(this, e, labels, partOf);
  }

  /**
   * In-cluster URL of the stable version: the Service `<endpoint>` (with KServe, its predictor
   * Service `<endpoint>-predictor` on port 80).
   */
  public get url(): string {
    const { name, namespace, kserve } = this.spec;
    if (kserve) return `http://${name}-predictor.${namespace}.svc.cluster.local`;
    const stable = this.spec.versions.find((v) => v.name === this.spec.traffic.stable)!;
    return `http://${name}.${namespace}.svc.cluster.local:${stable.runtime.port}`;
  }
}
