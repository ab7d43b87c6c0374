/**
 * `mlplatform/testing`: helpers for jest tests of templates built with `mlplatform/cdk8s`.
 *
 * - `checkTemplate(chart)`: synthesizes a chart (or an App) and runs the strict offline validator
 *   (upstream schemas, unknown fields, apiserver-style checks, Pod Security) and the synth-time checks.
 * - `installMatchers()`: adds `toBeSchedulable()`, `toPassChecks()`, `toRequestGpus(n)`,
 *   `toStayUnderHourlyCost(usd)`, `toPassPodSecurity(level)` and `toHaveValidManifests()` to `expect`.
 * - `createValidator()`: the validator itself, for manifests from anywhere.
 *
 * Schema files never ship with the package: pass `schemasDir` or set `MLPLATFORM_SCHEMAS_DIR`.
 *
 * @packageDocumentation
 */
export * from './schemas';
export * from './validate';
export * from './template';
export * from './matchers';
