/**
 * `mlplatform/cdk8s`: the constructs for `cdk8s synth`. Loads without any `@pulumi/*` package.
 *
 * @packageDocumentation
 */
export * from './convert';
export * from './ml-platform';
export * from './training-pipeline';
export * from './model-endpoint';
export * from './tuning-sweep';
export * from './report';
export { checkPlatform, workloadDemands, formatFinding, servicePodDemands, StoreLocation } from './checks';
