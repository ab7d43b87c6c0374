/**
 * `mlplatform`: the pure model shared by the cdk8s and Pulumi sides — validation errors, names,
 * quantities, the accelerator catalog and the pinned version table. It imports nothing of cdk8s
 * or Pulumi.
 *
 * @packageDocumentation
 */
export * from './errors';
export * from './names';
export * from './quantities';
