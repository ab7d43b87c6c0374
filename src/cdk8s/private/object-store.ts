import { Construct } from 'constructs';
import { PlatformNames } from './names';
import { appLabels, container, emptyDir, podSpec, resources, selectorLabels } from './pod';
import { renderStatefulService } from './stateful';
import { ArtifactStoreSpec } from '../../core';

/** S3 port of the embedded store. */
export const STORE_PORT = 8333;
const STORE_UID = 1000;

/** What the object store renderer needs. */
export interface ObjectStoreInput {
  readonly platform: string;
  readonly namespace: string;
  readonly names: PlatformNames;
  readonly image: string;
  readonly spec: Extract<ArtifactStoreSpec, { kind: 'embedded' }>;
}

/** Labels of the embedded store's pods. */
export function storePodLabels(i: { platform: string; names: PlatformNames }): Record<string, string> {
  return selectorLabels(i.names.store, i.platform);
}

/** In-cluster endpoint URL of the embedded store. */
export function storeEndpoint(names: PlatformNames, namespace: string): string {
  return `http://${names.store}.${namespace}.svc.cluster.local:${STORE_PORT}`;
}

/**
 * The embedded S3-compatible store: SeaweedFS in one process (`weed server` with master, volume,
 * filer and S3 gateway) on a PersistentVolumeClaim, with S3 identities read from the Secret the
 * bootstrap Job generates. Only the S3 port is exposed by the Service. The bootstrap Job creates
 * the bucket through the S3 API once the store answers.
 */
export function renderObjectStore(scope: Construct, i: ObjectStoreInput): void {
  const { names, namespace } = i;
  const labels = appLabels(names.store, 'object-store', i.platform);
  const selector = storePodLabels(i);
  const status = { httpGet: { path: '/status', port: 's3' } };
  renderStatefulService(scope, {
    id: 'store',
    name: names.store,
    namespace,
    labels,
    selector,
    headless: false,
    port: { name: 's3', port: STORE_PORT },
    storage: i.spec.storage,
    storageClassName: i.spec.storageClassName,
    pod: podSpec({
      serviceAccountName: names.store,
      runAsUser: STORE_UID,
      fsGroup: STORE_UID,
      terminationGracePeriodSeconds: 60,
      containers: [container({
        name: 'seaweedfs',
        image: i.image,
        // Bypass the image's entrypoint so every flag is explicit.
        command: ['/usr/bin/weed'],
        args: [
          '-logtostderr=true', 'server', '-dir=/data', '-ip.bind=0.0.0.0',
          '-volume.max=0', '-master.volumePreallocate=false', '-master.volumeSizeLimitMB=1024',
          '-filer', '-s3', `-s3.port=${STORE_PORT}`, '-s3.config=/etc/seaweedfs/s3.json',
        ],
        env: [{ name: 'HOME', value: '/tmp' }],
        ports: [{ name: 's3', containerPort: STORE_PORT, protocol: 'TCP' }],
        resources: resources('100m', '1', '192Mi', '1Gi'),
        volumeMounts: [
          { name: 'data', mountPath: '/data' },
          { name: 'tmp', mountPath: '/tmp' },
          { name: 's3-config', mountPath: '/etc/seaweedfs', readOnly: true },
        ],
        readinessProbe: Object.assign({}, status, { periodSeconds: 10, failureThreshold: 3 }),
        livenessProbe: Object.assign({}, status, { periodSeconds: 20, failureThreshold: 6 }),
        startupProbe: Object.assign({}, status, { periodSeconds: 5, failureThreshold: 60 }),
      })],
      volumes: [
        emptyDir('tmp', '1Gi'),
        { name: 's3-config', secret: { secretName: names.storeSecret, items: [{ key: 's3.json', path: 's3.json' }], defaultMode: 0o440 } },
      ],
    }),
  });
}
