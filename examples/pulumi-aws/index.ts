// The example Pulumi stack: what a cloud team commits and runs `pulumi up` on. It puts the example
// platform (the same declarations as examples/cdk8s-platform) on an existing EKS cluster: an S3 bucket
// and RDS PostgreSQL instead of the embedded stores, GPU node pools (managed node groups and Karpenter),
// the add-ons as Helm releases, and the exact Kubernetes objects `cdk8s synth` writes; then the
// example's training pipeline, sweep and endpoint, each with an IAM role scoped to exact prefixes.
import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  Cpu, Dataset, Duration, EndpointExposure, Exposure, ModelSource, Pruner, Runtime, Sampler, Scaling, Size, TrackingAuth,
} from 'mlplatform';
import {
  EksCluster, MlPlatform, MlPlatformArgs, ModelEndpoint, NodeProvisioning, TrainingPipeline, TuningSweep, WorkloadIdentityMode,
} from 'mlplatform/pulumi';

/** What the stack needs from its environment: the cluster, two node roles and the database password. */
export interface ExampleSettings {
  /** The existing EKS cluster. */
  readonly cluster: EksCluster;
  /** ARN of the IAM role of the managed GPU node groups. */
  readonly gpuNodeRoleArn: pulumi.Input<string>;
  /** Name of the IAM role of Karpenter-launched nodes. */
  readonly karpenterNodeRole: pulumi.Input<string>;
  /** The RDS master password, a Pulumi secret. */
  readonly databasePassword: pulumi.Input<string>;
}

/**
 * The platform's declarations: the same as examples/cdk8s-platform (tracking, exposure, pools,
 * tenants), except that the `a10g` pool runs g5.2xlarge nodes and `vision` has room for the 2-node
 * fine-tune (the synth-time checks hold the training step's 6 CPUs / 24 GiB and the fine-tune's
 * 2 × 256 GiB against them), plus how each pool gets nodes on AWS.
 */
export function platformDeclarations(s: Pick<ExampleSettings, 'gpuNodeRoleArn' | 'karpenterNodeRole'>): Pick<MlPlatformArgs, 'namespace' | 'tracking' | 'exposure' | 'nodes' | 'gpuPools' | 'tenants'> {
  return {
    namespace: 'mlplatform',
    tracking: { workers: 2, serverOptions: '--timeout-keep-alive 120', auth: TrackingAuth.basic() },
    // The tracking UI on the platform's own Gateway (Envoy Gateway), TLS from cert-manager; endpoints
    // and sweep dashboards of the tenants attach to its `*.models.example.com` listeners.
    exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' }, apps: { hostnames: ['*.models.example.com'] } }),

    // GPU pools: managed node groups scaling from zero unless a pool says otherwise.
    nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: s.gpuNodeRoleArn }),
    gpuPools: {
      'a10g': { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', gpusPerNode: 1, maxNodes: 8, capacityType: 'spot', diskSize: Size.gibibytes(200) },
      'h100': { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2, diskSize: Size.gibibytes(500), nodes: NodeProvisioning.karpenter({ nodeRole: s.karpenterNodeRole }) },
      'l4-shared': { accelerator: 'nvidia-l4', maxNodes: 4, sharing: { timeSlicing: { replicas: 4 } } },
    },

    // Teams: namespace, quota (GPUs per pool), defaults, RBAC, policies, Kueue queue.
    tenants: {
      vision: {
        quota: { cpu: Cpu.cores(72), memory: Size.gibibytes(640), gpus: { a10g: 8, h100: 16 } },
        access: { admins: ['ml-platform-admins'], editors: ['vision-team'] },
        queue: true,
      },
      nlp: {
        quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { 'l4-shared': 8 } },
        access: { editors: ['nlp-team'], viewers: ['analysts'] },
      },
    },
  };
}

/** Declares the example platform; the tests run this under Pulumi mocks. */
export function buildPlatform(s: ExampleSettings): MlPlatform {
  return new MlPlatform('ml', {
    cluster: s.cluster,
    ...platformDeclarations(s),
    // AWS: a private, versioned, TLS-only bucket and an encrypted, backed-up, private database.
    artifacts: { noncurrentVersionDays: 30 },
    database: { password: s.databasePassword, instanceClass: 'db.t4g.medium', backupRetentionDays: 14 },
    tags: { 'cost-center': 'ml-platform' },
  });
}

const IMAGE = 'ghcr.io/acme/vision-train:2.3.1';
const VISION_DATA = Dataset.fromDvc({ repository: 'https://github.com/acme/vision-data.git', revision: 'v2024.05', path: 'imagenet/train', remote: 'dvc/vision' });

/** The workloads of the example (as examples/cdk8s-platform declares them), each with its own least-privilege role. */
export interface ExampleWorkloads {
  /** The nightly training pipeline: writes `pipelines/vision/resnet/`, reads the DVC remote `dvc/vision/`. */
  readonly pipeline: TrainingPipeline;
  /** The sweep: its trials read `datasets/imagenette/v2/`. */
  readonly sweep: TuningSweep;
  /** The endpoint: registry models, fetched through MLflow (no bucket role). */
  readonly endpoint: ModelEndpoint;
}

/** Declares the example's training pipeline, sweep and endpoint on `platform` (tenant `vision`). */
export function addWorkloads(platform: MlPlatform): ExampleWorkloads {
  // Versioned data in, a GPU training step, a 2-node fine-tune, an evaluation gate, the model registered. Nightly.
  const pipeline = new TrainingPipeline('resnet', {
    platform,
    namespace: 'vision',
    experiment: 'resnet50-imagenet',
    codeRevision: '4f6c2a1d9e0b7c3a5f8e2d1c0b9a8f7e6d5c4b3a',
    parameters: {
      epochs: { default: '30', description: 'Training epochs' },
      lr: { default: '0.1' },
    },
    schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin', concurrencyPolicy: 'Forbid' },
    timeout: Duration.hours(12),
    onExit: { image: 'docker.io/curlimages/curl:8.11.1', command: ['sh', '-c', 'echo "run {{workflow.name}} ended: {{workflow.status}}"'] },
    // The DVC remote in the bucket is filled by the data team, not by a pipeline: granted (the data-access check).
    readGrants: [platform.platform.storeLocation('dvc/vision')],
    // A Pulumi component renders at once: every step is declared here, later ones naming earlier ones.
    steps: [
      {
        name: 'prepare',
        image: IMAGE,
        command: ['python', '-m', 'vision.prepare'],
        inputs: { raw: VISION_DATA },
        outputs: ['shards'],
        cpu: Cpu.cores(4),
        memory: Size.gibibytes(16),
        ephemeralStorage: Size.gibibytes(100),
        cache: { maxAge: Duration.days(7) },
        retry: { limit: 2, policy: 'OnError' },
      },
      {
        name: 'train',
        after: ['prepare'],
        image: IMAGE,
        command: ['python', '-m', 'vision.train'],
        args: ['--epochs', '{{workflow.parameters.epochs}}', '--lr', '{{workflow.parameters.lr}}'],
        inputs: { shards: { step: 'prepare', output: 'shards' } },
        outputs: ['model'],
        outputParameters: ['accuracy'],
        gpus: 1,
        accelerator: 'nvidia-a10g',
        cpu: Cpu.cores(6),
        memory: Size.gibibytes(24),
        sharedMemory: Size.gibibytes(8),
        ephemeralStorage: Size.gibibytes(100),
        timeout: Duration.hours(6),
        retry: { limit: 2, policy: 'OnError', backoff: { duration: Duration.minutes(1), factor: 2 } },
      },
      {
        name: 'finetune',
        after: ['train'],
        image: IMAGE,
        command: ['-m', 'vision.finetune'],
        args: ['--epochs', '{{workflow.parameters.epochs}}'],
        inputs: { raw: VISION_DATA, model: { step: 'train', output: 'model' } },
        outputs: ['model'],
        nodes: 2,
        gpus: 8,
        accelerator: 'nvidia-h100-80gb',
        cpu: Cpu.cores(31),
        memory: Size.gibibytes(256),
        sharedMemory: Size.gibibytes(64),
        ephemeralStorage: Size.gibibytes(200),
        distributed: { restarts: 2 },
        timeout: Duration.hours(8),
      },
      {
        name: 'publish',
        after: ['train'],
        when: '{{tasks.train.outputs.parameters.accuracy}} > 0.75',
        image: IMAGE,
        command: ['python', '-m', 'vision.export', '--accuracy', '{{tasks.train.outputs.parameters.accuracy}}'],
        inputs: { model: { step: 'train', output: 'model' } },
        outputs: ['mlflowModel'],
        registerModel: { output: 'mlflowModel', name: 'resnet50', alias: 'candidate' },
      },
    ],
  });

  // Optuna (TPE + Hyperband) with its study in the RDS PostgreSQL; the trials read a dataset of the bucket.
  const sweep = new TuningSweep('resnet-sweep', {
    platform,
    namespace: 'vision',
    trial: {
      image: IMAGE,
      command: ['python', '-m', 'train'],
      args: ['--epochs=20', `--data=${platform.context.store.root}/datasets/imagenette/v2`],
      cpu: Cpu.cores(4),
      memory: Size.gibibytes(16),
      sharedMemory: Size.gibibytes(4),
      gpus: 1,
      accelerator: 'nvidia-a10g',
    },
    parameters: [
      { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
      { name: 'batch_size', type: 'categorical', choices: [32, 64, 128] },
      { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adamw'] },
      { name: 'momentum', type: 'float', low: 0.5, high: 0.99, when: { parameter: 'optimizer', equals: 'sgd' } },
      { name: 'weight_decay', type: 'float', low: 1e-6, high: 1e-2, log: true },
    ],
    objectives: [{ metric: 'val_loss', direction: 'minimize', strategy: 'min' }],
    sampler: Sampler.tpe({ nStartupTrials: 8, multivariate: true, seed: 42 }),
    pruner: Pruner.hyperband({ minResource: 2, maxResource: 20 }),
    budget: { trials: 40, workers: 4, maxFailedTrials: 5, trialTimeout: Duration.hours(2), deadline: Duration.hours(24) },
    dashboard: true,
  });

  // resnet50 from the MLflow registry with Triton on a10g: stable (90%), canary (10%), shadow (20% mirrored).
  const endpoint = new ModelEndpoint('resnet50', {
    platform,
    namespace: 'vision',
    runtime: Runtime.triton(),
    resources: { cpu: Cpu.cores(2), memory: Size.gibibytes(8), gpus: 1, accelerator: 'nvidia-a10g', sharedMemory: Size.gibibytes(1) },
    scaling: Scaling.fixed(2),
    startupBudget: Duration.minutes(15),
    modelStorage: Size.gibibytes(2),
    exposure: EndpointExposure.gateway({ host: 'resnet50.models.example.com', grpcHost: 'resnet50-grpc.models.example.com' }),
    // 5% of requests and answers as JSON lines under the bucket's endpoints/vision/resnet50/<version>/payloads/.
    logging: { samplePercent: 5, maxBodyBytes: 65536 },
    monitoring: { labels: { release: 'kube-prometheus-stack' }, alerts: { errorRatio: 0.02, latencySeconds: 0.25 } },
    versions: [
      { name: 'stable', stable: true, model: ModelSource.registry('resnet50', { alias: 'champion' }) },
      { name: 'canary', weight: 10, model: ModelSource.registry('resnet50', { alias: 'challenger' }), scaling: Scaling.fixed(1) },
      { name: 'shadow', mirrorPercent: 20, model: ModelSource.registry('resnet50', { alias: 'candidate' }), scaling: Scaling.fixed(1) },
    ],
  });
  return { pipeline, sweep, endpoint };
}

/**
 * The program `pulumi up` runs (Pulumi calls the default export): reads the cluster stack's outputs
 * and this stack's config, then declares the platform. Its result becomes the stack outputs.
 */
export default function main(): Record<string, pulumi.Input<string>> {
  const config = new pulumi.Config();
  const clusterStack = new pulumi.StackReference(config.require('clusterStack'));
  const provider = new k8s.Provider('cluster', { kubeconfig: clusterStack.requireOutput('kubeconfig') });
  const region = aws.config.region;
  if (!region) throw new Error('set the AWS region: pulumi config set aws:region us-east-1');
  const platform = buildPlatform({
    cluster: {
      name: clusterStack.requireOutput('clusterName') as pulumi.Output<string>,
      region,
      vpcId: clusterStack.requireOutput('vpcId') as pulumi.Output<string>,
      privateSubnetIds: clusterStack.requireOutput('privateSubnetIds') as pulumi.Output<string[]>,
      securityGroupId: clusterStack.requireOutput('clusterSecurityGroupId') as pulumi.Output<string>,
      identity: WorkloadIdentityMode.podIdentity(),
      provider,
    },
    gpuNodeRoleArn: config.require('gpuNodeRoleArn'),
    karpenterNodeRole: config.require('karpenterNodeRole'),
    databasePassword: config.requireSecret('dbPassword'),
  });
  const workloads = addWorkloads(platform);
  return {
    bucketName: platform.bucket.bucketName,
    databaseAddress: platform.database.address,
    trackingUri: platform.trackingUri,
    pipelineArtifacts: workloads.pipeline.artifactUri,
    pipelineRoleArn: workloads.pipeline.identity.roleArn,
    endpointUrl: workloads.endpoint.url,
  };
}
