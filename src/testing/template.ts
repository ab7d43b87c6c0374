import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { schemasDir } from './schemas';
import { createValidator, formatFindings, type PssLevel, type Report } from './validate';
import { platformReport, PlatformReport } from '../cdk8s/report';
import { CheckFinding } from '../core/checks';
import { fieldPath } from './validate/format';
import { podSecurityChecks } from './validate/pss';
import { ptr, type JsonObject, type Segments } from './validate/util';

/** Options of {@link checkTemplate} and {@link validateManifests}. */
export interface TemplateCheckOptions {
  /**
   * Folder of the upstream schema files (the layout of `shared/crds`). No schema file ships with the
   * package: point this (or `$MLPLATFORM_SCHEMAS_DIR`) at a copy.
   * @default schemasDir(): `$MLPLATFORM_SCHEMAS_DIR`, else a `shared/crds` folder in a parent folder
   */
  readonly schemasDir?: string;
  /**
   * Pod Security Standards level every PodSpec must meet; `false` to skip.
   * @default 'restricted'
   */
  readonly pss?: PssLevel | false;
  /**
   * Kinds (`Kind` or `group/version/Kind`) accepted without a schema.
   * @default []
   */
  readonly allowKinds?: readonly string[];
}

/** What {@link checkTemplate} found. */
export interface TemplateCheck {
  /** The synthesized manifests. */
  readonly manifests: readonly JsonObject[];
  /** Strict validation: schemas (unknown fields are errors), apiserver-style checks and Pod Security. */
  readonly validation: Report;
  /** One line per validation error, e.g. `Deployment/web spec.template.spec.containers[0]: unknown field "x" [schema]`. */
  readonly validationErrors: readonly string[];
  /** The synth-time check findings of the constructs under the scope (schedulability, capacity, tenancy, data access), errors and warnings. */
  readonly findings: readonly CheckFinding[];
  /** The platform report of the scope. */
  readonly report: PlatformReport;
}

/**
 * The manifests under `scope` (an App, a Chart or any construct), in tree order. Unlike
 * `chart.toJson()`, this does not run the construct validations, so that a template whose synth-time
 * checks fail can still be inspected: the checks' errors come back as findings instead.
 */
export function manifestsOf(scope: IConstruct): JsonObject[] {
  return scope.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c)).map((o) => o.toJson() as JsonObject);
}

/** Strictly validates manifests offline (the validator of `mlplatform/testing`); returns the report. */
export function validateManifests(manifests: readonly unknown[], options: TemplateCheckOptions = {}): Report {
  const validator = createValidator({
    schemaDirs: [options.schemasDir !== undefined ? schemasDir({ dir: options.schemasDir }) : schemasDir()],
    strict: true,
    pss: options.pss === false ? undefined : options.pss ?? 'restricted',
    allowKinds: options.allowKinds ?? [],
  });
  return validator.validateObjects(manifests);
}

/** Pod Security Standards violations of `manifests` at `level`, one line each; needs no schema files. */
export function podSecurityViolations(manifests: readonly unknown[], level: PssLevel = 'restricted'): string[] {
  const out: string[] = [];
  for (const o of manifests) {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) continue;
    const obj = o as JsonObject;
    const md = (obj.metadata ?? {}) as JsonObject;
    podSecurityChecks(obj, level, (segs: Segments, message: string) => out.push(`${String(obj.kind)}/${String(md.name ?? '?')} ${fieldPath(ptr(segs))}: ${message}`));
  }
  return out;
}

/**
 * Synthesizes `scope` (a Chart, an App or any construct holding mlplatform constructs) and runs
 * everything `cdk8s synth` would let through unchecked: strict offline validation of every manifest
 * against the upstream schemas (with Pod Security), and the synth-time checks. Nothing is asserted:
 * use the jest matchers (`installMatchers()`) or look at the result.
 */
export function checkTemplate(scope: IConstruct, options: TemplateCheckOptions = {}): TemplateCheck {
  const manifests = manifestsOf(scope);
  const validation = validateManifests(manifests, options);
  const report = platformReport(scope);
  return { manifests, validation, validationErrors: formatFindings(validation.errors), findings: report.findings, report };
}
