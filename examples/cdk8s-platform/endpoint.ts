// The model endpoint of the example platform repo: serves the model the training pipeline registers.
import { Chart } from 'cdk8s';
import { Cpu, Duration, EndpointExposure, ModelSource, Runtime, Scaling, Size } from 'mlplatform';
import { MlPlatform, ModelEndpoint } from 'mlplatform/cdk8s';

/**
 * Serves `resnet50`, the image classifier the training pipeline registers in MLflow as an ONNX
 * model (`mlflow.onnx.log_model(..., registered_model_name="resnet50")`, alias `champion` on the
 * approved version), with NVIDIA Triton on the `a10g` pool of the `vision` tenant:
 * - `stable`: `models:/resnet50@champion`, takes the rest of the traffic (90%);
 * - `canary`: `models:/resnet50@challenger`, 10% of live traffic;
 * - `shadow`: `models:/resnet50@candidate`, receives a copy of 20% of live requests, answers dropped.
 * Promote by moving the `champion` alias and rolling the stable Deployment; roll back by setting
 * the canary's weight to 0.
 */
export function addModelEndpoint(chart: Chart, platform: MlPlatform): ModelEndpoint {
  return new ModelEndpoint(chart, 'resnet50', {
    platform,
    namespace: 'vision',
    // The ONNX file at the artifact root lands in /models/repository/resnet50/1/; Triton completes the config.
    runtime: Runtime.triton(),
    resources: { cpu: Cpu.cores(2), memory: Size.gibibytes(8), gpus: 1, accelerator: 'nvidia-a10g', sharedMemory: Size.gibibytes(1) },
    scaling: Scaling.fixed(2),
    // A spot a10g node from zero (~3 min), the Triton image (~8 GB) and a 100 MB model: 15 minutes is generous.
    startupBudget: Duration.minutes(15),
    modelStorage: Size.gibibytes(2),
    // On the platform Gateway's `*.models.example.com` listener (HTTPS): the HTTPRoute carries the
    // split and the mirror; Triton's gRPC port gets a GRPCRoute with the same split.
    exposure: EndpointExposure.gateway({ host: 'resnet50.models.example.com', grpcHost: 'resnet50-grpc.models.example.com' }),
    // 5% of the requests and answers (bodies up to 64 KiB) as JSON lines in the platform store.
    logging: { samplePercent: 5, maxBodyBytes: 65536 },
    monitoring: { labels: { release: 'kube-prometheus-stack' }, alerts: { errorRatio: 0.02, latencySeconds: 0.25 } },
    versions: [
      { name: 'stable', stable: true, model: ModelSource.registry('resnet50', { alias: 'champion' }) },
      { name: 'canary', weight: 10, model: ModelSource.registry('resnet50', { alias: 'challenger' }), scaling: Scaling.fixed(1) },
      { name: 'shadow', mirrorPercent: 20, model: ModelSource.registry('resnet50', { alias: 'candidate' }), scaling: Scaling.fixed(1) },
    ],
  });
}
