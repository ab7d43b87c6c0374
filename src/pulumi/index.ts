/**
 * `mlplatform/pulumi`: the platform on AWS — GPU node pools, buckets, database, identities,
 * ingress and add-ons as Pulumi components — with the Kubernetes objects rendered by the cdk8s side
 * and created here one resource per object.
 *
 * @packageDocumentation
 */
export * from './kubernetes-objects';
export * from './cloud-values';
export * from './cluster';
export * from './artifact-bucket';
export * from './database';
export * from './workload-identity';
export * from './node-provisioning';
export * from './gpu-node-pool';
export * from './ingress';
export * from './cluster-addons';
export * from './ml-platform-args';
export * from './ml-platform';
export * from './training-pipeline';
export * from './tuning-sweep';
export * from './model-endpoint';
