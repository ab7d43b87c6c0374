import * as pulumi from '@pulumi/pulumi';
import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { captureIssues } from './capture';
import { cloudValuePlaceholder } from './cloud-values';
import { MlPlatform } from './ml-platform';
import { normalizePrefix, S3PrefixAccess, WorkloadIdentity } from './workload-identity';
import { Issues, shortHash } from '../core';

/*
 * What the Pulumi wrappers of TrainingPipeline, TuningSweep and ModelEndpoint share: one role per
 * workload ServiceAccount, and — under IRSA — that ServiceAccount's `eks.amazonaws.com/role-arn`
 * annotation set to its own role's ARN. The annotation is set on the very ServiceAccount object the
 * cdk8s construct rendered (through cdk8s' own metadata API), as a cloud value placeholder bound
 * to the role's ARN: no second renderer, and the object's kind and name stay known at preview.
 */

/** The IRSA annotation of a ServiceAccount. */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** A workload ServiceAccount. */
export interface ServiceAccountRef {
  /** Namespace. */
  readonly namespace: string;
  /** Name. */
  readonly name: string;
}

/** Whether `access` grants anything. */
export function grantsAny(access: S3PrefixAccess): boolean {
  return (access.read?.length ?? 0) + (access.write?.length ?? 0) > 0;
}

/** `access` with prefixes normalized, deduplicated and sorted; a read already covered by a write is dropped. */
export function tidyAccess(access: S3PrefixAccess): S3PrefixAccess {
  const write = [...new Set((access.write ?? []).map(normalizePrefix))].sort();
  const read = [...new Set((access.read ?? []).map(normalizePrefix))].filter((p) => !write.includes(p)).sort();
  return { ...(read.length ? { read } : {}), ...(write.length ? { write } : {}) };
}

/** Records an issue when `platform` is not the Pulumi {@link MlPlatform}; returns it when it is. */
export function checkPlatform(issues: Issues, platform: unknown): MlPlatform | undefined {
  if (platform instanceof MlPlatform) return platform;
  issues.add('platform', platform, 'is required: the Pulumi MlPlatform (from mlplatform/pulumi) the workload runs on');
  return undefined;
}

/**
 * Builds one workload construct into a new chart `id` of the platform's in-memory cdk8s app
 * ({@link MlPlatform.workloadChart}) and synthesizes it once — lazily rendered parts and the
 * synth-time checks run then — before any resource is created. A ValidationError's issues are
 * recorded in `issues` (with the construct's prop paths, which are the component's arg paths). When
 * anything fails the chart is taken out of the app again, so that it cannot fail the synthesis of
 * workloads declared later.
 */
export function buildWorkload<T>(platform: MlPlatform, issues: Issues, id: string, build: (chart: Chart) => T): { chart: Chart; construct: T } | undefined {
  const chart = platform.workloadChart(id);
  const remove = () => chart.node.scope!.node.tryRemoveChild(chart.node.id);
  try {
    const construct = captureIssues(issues, '', () => build(chart));
    if (construct !== undefined && issues.ok) captureIssues(issues, '', () => chart.toJson());
    if (construct !== undefined && issues.ok) return { chart, construct };
  } catch (e) {
    remove();
    throw e;
  }
  remove();
  return undefined;
}

/** The one ServiceAccount `sa` among the objects of `chart`. */
function serviceAccountObject(chart: Chart, sa: ServiceAccountRef): ApiObject {
  const found = chart.node.findAll().filter((c): c is ApiObject =>
    c instanceof ApiObject && c.kind === 'ServiceAccount' && c.metadata.name === sa.name && c.metadata.namespace === sa.namespace);
  if (found.length !== 1) throw new Error(`expected one ServiceAccount ${sa.namespace}/${sa.name} in chart ${chart.node.id}, found ${found.length}`);
  return found[0];
}

/**
 * Gives ServiceAccount `sa` (an object of `chart`) its own role `name` with exactly `access` to the
 * platform's bucket, and returns it. Under IRSA the ServiceAccount's role annotation becomes a cloud
 * value placeholder bound to that role's ARN. With nothing to grant, no role is created and, under
 * IRSA, the platform's role annotation (which the cdk8s construct copies from the platform's store)
 * is removed: the workload must not borrow the tracking server's role. Annotations the user gave
 * (e.g. a model source's own workload identity) are left as they are.
 */
export function serviceAccountRole(
  platform: MlPlatform, chart: Chart, name: string, sa: ServiceAccountRef, access: S3PrefixAccess, opts: pulumi.ComponentResourceOptions,
): WorkloadIdentity | undefined {
  const obj = serviceAccountObject(chart, sa);
  const irsa = platform.workloadIdentityMode === 'irsa';
  if (!grantsAny(access)) {
    const annotations = (obj.toJson().metadata?.annotations ?? {}) as Record<string, string>;
    const platformRole = platform.context.store.serviceAccountAnnotations?.[IRSA_ROLE_ANNOTATION];
    if (irsa && platformRole !== undefined && annotations[IRSA_ROLE_ANNOTATION] === platformRole) {
      const only = Object.keys(annotations).length === 1;
      obj.addJsonPatch(JsonPatch.remove(only ? '/metadata/annotations' : `/metadata/annotations/${IRSA_ROLE_ANNOTATION.replace(/~/g, '~0').replace(/\//g, '~1')}`));
    }
    return undefined;
  }
  const identity = platform.workloadIdentity(name, sa, access, opts);
  if (irsa) {
    const key = `role${shortHash(`${sa.namespace}/${sa.name}`, 16)}`;
    platform.cloudValues.bind(key, identity.roleArn);
    obj.metadata.addAnnotation(IRSA_ROLE_ANNOTATION, cloudValuePlaceholder(key));
  }
  return identity;
}
