import { schemasDir } from './schemas';
import { createValidator, formatFindings, type Report } from './validate';

/** Options of {@link expectValidManifests}. */
export interface ExpectValidOptions {
  /**
   * Pod Security Standards level every PodSpec must meet; `false` to skip the check.
   * @default 'restricted'
   */
  readonly pss?: 'restricted' | 'baseline' | false;
  /**
   * Kinds (`Kind` or `group/version/Kind`) accepted without a schema.
   * @default []
   */
  readonly allowKinds?: readonly string[];
}

/**
 * Jest assertion: the manifests (e.g. `chart.toJson()` or the objects given to a Pulumi ConfigGroup)
 * pass strict offline validation (schemas, unknown fields, apiserver-style checks) and, by default,
 * Pod Security Standards "restricted". On failure the diff lists every finding, one line each, e.g.
 * `Deployment/web spec.template.spec.containers[0]: unknown field "imagePulPolicy" [schema]`.
 * Returns the report (its warnings, for instance) for further assertions.
 */
export function expectValidManifests(objs: readonly unknown[], opts: ExpectValidOptions = {}): Report {
  if (!Array.isArray(objs) || objs.length === 0) {
    throw new Error('expectValidManifests: no manifests to validate (an empty list would pass vacuously)');
  }
  const validator = createValidator({
    schemaDirs: [schemasDir()],
    strict: true,
    pss: opts.pss === false ? undefined : opts.pss ?? 'restricted',
    allowKinds: opts.allowKinds ?? [],
  });
  const report = validator.validateObjects(objs);
  expect(formatFindings(report.errors)).toEqual([]);
  return report;
}
