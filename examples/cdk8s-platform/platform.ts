// The example platform repo: what a platform team commits and runs `cdk8s synth` (or `npm run synth`) on.
import { App, Chart } from 'cdk8s';
import { addModelEndpoint } from './endpoint';
import { addTrainingPipeline } from './pipeline';
import { addTuningSweep } from './sweep';
import { ArtifactStore, BackendStore, Cpu, Exposure, Size, TrackingAuth } from 'mlplatform';
import { MlPlatform } from 'mlplatform/cdk8s';

/** Builds the example platform (shared services, pools, tenants) into `app` and returns its chart and platform. */
export function buildPlatform(app: App): { chart: Chart; platform: MlPlatform } {
  const chart = new Chart(app, 'platform');

  const platform = new MlPlatform(chart, 'ml', {
    namespace: 'mlplatform',
    // Embedded PostgreSQL and S3-compatible store (SeaweedFS) on PVCs; nightly backups into the store.
    backendStore: BackendStore.embedded({ storage: Size.gibibytes(20), backup: { schedule: '0 3 * * *', keep: 14 } }),
    artifactStore: ArtifactStore.embedded({ storage: Size.gibibytes(200), bucket: 'ml-artifacts' }),
    tracking: { workers: 2, serverOptions: '--timeout-keep-alive 120', auth: TrackingAuth.basic() },
    // The tracking UI on the platform's own Gateway (Envoy Gateway), TLS from cert-manager; model
    // endpoints and sweep dashboards of the tenants attach to its `*.models.example.com` listeners.
    exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' }, apps: { hostnames: ['*.models.example.com'] } }),
  });

  // GPU pools: the labels, taints and resource names every workload construct uses.
  // g5.2xlarge (8 vCPU, 32 GiB): the training step's 6 CPU / 24 GiB fit beside the node's own reservations.
  // Node volumes sized for the steps' scratch (100 GiB and 200 GiB): the kubelet keeps 1 GiB + 10 % back.
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 8, capacityType: 'spot', diskSize: Size.gibibytes(200) });
  platform.addGpuPool('h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2, diskSize: Size.gibibytes(500) });
  platform.addGpuPool('l4-shared', { accelerator: 'nvidia-l4', maxNodes: 4, sharing: { timeSlicing: { replicas: 4 } } });

  // Teams: namespace, quota (GPUs per pool), defaults, RBAC, policies, Kueue queue.
  platform.addTenant('vision', {
    quota: { cpu: Cpu.cores(72), memory: Size.gibibytes(640), gpus: { a10g: 8, h100: 16 } },
    access: { admins: ['ml-platform-admins'], editors: ['vision-team'] },
    queue: true,
  });
  platform.addTenant('nlp', {
    quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { 'l4-shared': 8 } },
    access: { editors: ['nlp-team'], viewers: ['analysts'] },
  });

  return { chart, platform };
}

/** The whole example: the platform and the workloads that run on it. */
export function buildExample(app: App): { chart: Chart; platform: MlPlatform } {
  const { chart, platform } = buildPlatform(app);
  addTrainingPipeline(chart, platform);
  addTuningSweep(chart, platform);
  addModelEndpoint(chart, platform);
  return { chart, platform };
}
