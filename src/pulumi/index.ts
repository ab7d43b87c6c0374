/**
 * `mlplatform/pulumi`: the same constructs as Pulumi components, plus the AWS pieces. Kubernetes
 * objects are rendered by the cdk8s side and created here one resource per object.
 *
 * @packageDocumentation
 */
export * from './kubernetes-objects';
