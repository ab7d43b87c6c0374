/**
 * Offline validation of synthesized Kubernetes manifests (a TypeScript port of
 * `shared/tools/validate-manifests.mjs`, without its kubernetes-models and CEL layers).
 */
export { createValidator } from './validator';
export { fieldPath, formatFindings } from './format';
export { parseQuantity } from './quantity';
export { findPodSpecs } from './pod-specs';
export type { Finding, FindingSource, PssLevel, Report, ResolvedValidatorOptions, Validator, ValidatorOptions } from './types';
