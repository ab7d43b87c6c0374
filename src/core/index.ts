/**
 * `mlplatform`: the pure model shared by the cdk8s and Pulumi sides — validation errors, names,
 * quantities, the accelerator catalog, the platform model and the pinned version table. It imports
 * nothing of cdk8s or Pulumi.
 *
 * @packageDocumentation
 */
export * from './errors';
export * from './names';
export * from './quantities';
export * from './cron';
export * from './secrets';
export * from './versions';
export * from './accelerators';
export * from './accelerator-catalog';
export * from './gpu-conventions';
export * from './platform';
export * from './workload';
export * from './pipeline';
export * from './endpoint';
export * from './sweep';
export * from './checks';
export * from './reserved';
