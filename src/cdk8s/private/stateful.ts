import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Json, KUBE, kube } from './object';
import { Size } from '../../core';

/** A one-replica service on a PersistentVolumeClaim (the embedded database and object store). */
export interface StatefulServiceInput {
  /** Construct id prefix. */
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  /** The one port the Service exposes (the container port of the same name). */
  readonly port: { readonly name: string; readonly port: number };
  /** A headless Service (clients resolve the pod directly). */
  readonly headless: boolean;
  /** The pod, from `podSpec()` (restricted security defaults). */
  readonly pod: Json<k8s.PodSpec>;
  /** Size of the `data` volume claim. */
  readonly storage: Size;
  readonly storageClassName?: string;
}

/**
 * Renders the ServiceAccount (no token), the Service and the StatefulSet of a one-replica stateful
 * service whose `data` volume is a claim template retained when the StatefulSet is deleted or scaled.
 */
export function renderStatefulService(scope: Construct, i: StatefulServiceInput): void {
  const meta = { name: i.name, namespace: i.namespace, labels: i.labels };
  kube(scope, `${i.id}-sa`, KUBE.ServiceAccount, { metadata: meta, automountServiceAccountToken: false });
  kube(scope, `${i.id}-svc`, KUBE.Service, {
    metadata: meta,
    spec: Object.assign({}, i.headless ? { clusterIP: 'None' } : {}, {
      selector: i.selector,
      ports: [{ name: i.port.name, port: i.port.port, targetPort: i.port.name }],
    }),
  });
  kube(scope, i.id, KUBE.StatefulSet, {
    metadata: meta,
    spec: {
      serviceName: i.name,
      replicas: 1,
      selector: { matchLabels: i.selector },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: { metadata: { labels: i.labels }, spec: i.pod },
      volumeClaimTemplates: [{
        metadata: { name: 'data', labels: i.labels },
        spec: {
          accessModes: ['ReadWriteOnce'],
          ...(i.storageClassName ? { storageClassName: i.storageClassName } : {}),
          resources: { requests: { storage: i.storage.toKubernetes() } },
        },
      }],
    },
  });
}
