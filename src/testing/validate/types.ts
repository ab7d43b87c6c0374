/** Which layer of the validator found a problem. */
export type FindingSource = 'parse' | 'schema' | 'semantic' | 'pss';

/** A Pod Security Standards level (k8s.io/pod-security-admission, policy version "latest"). */
export type PssLevel = 'baseline' | 'restricted';

/** One problem found in one manifest object (or in the YAML text around it). */
export interface Finding {
  /** The file name given to `validateText`/`validateObjects`; `''` when none was given. */
  readonly file: string;
  /** Zero-based index of the YAML document, or of the object in the array given to `validateObjects`. */
  readonly doc: number;
  /** The object's `kind`, or `?` when it has none (or could not be parsed). */
  readonly kind: string;
  /** The object's `metadata.name` (else `generateName`), or `?`. */
  readonly name: string;
  /** JSON pointer (RFC 6901) into the object, e.g. `/spec/template/spec/containers/0`; `''` is the whole object. */
  readonly path: string;
  /** What is wrong, e.g. `unknown field "imagePulPolicy"`. */
  readonly message: string;
  /** The layer that found it. */
  readonly source: FindingSource;
  /** For schema findings: which schema said so, e.g. `k8s v1.27.0` or `crd kubeflow.org_pytorchjobs.yaml`. */
  readonly origin?: string;
}

/** The result of validating a set of manifests. */
export interface Report {
  /** How many objects were validated (the items of a `kind: List` count one by one). */
  readonly objects: number;
  /** Problems that the API server (or the chosen Pod Security level) would reject. */
  readonly errors: Finding[];
  /** Things worth knowing that are not errors (an open CRD schema, skipped Go-only patterns). */
  readonly warnings: Finding[];
}

/** Options of {@link createValidator}. */
export interface ValidatorOptions {
  /**
   * Folders holding the schema files (the layout of `shared/crds`).
   * @default [schemasDir()]
   */
  readonly schemaDirs?: readonly string[];
  /**
   * Which `kubernetes/v<version>/_definitions.json` to use for the built-in kinds.
   * @default '1.27.0'
   */
  readonly k8sVersion?: string;
  /**
   * Reject unknown fields, as `kubectl apply --validate=strict` does.
   * @default true
   */
  readonly strict?: boolean;
  /**
   * Run the apiserver-style checks that OpenAPI cannot express (names, quantities, selectors, ...).
   * @default true
   */
  readonly semantic?: boolean;
  /**
   * Also check every PodSpec (custom resources included) against this Pod Security Standards level.
   * @default - no Pod Security check
   */
  readonly pss?: PssLevel;
  /**
   * Kinds (`Kind` or `group/version/Kind`) accepted without a schema instead of reported as unknown.
   * @default []
   */
  readonly allowKinds?: readonly string[];
}

/** {@link ValidatorOptions} with the defaults filled in. */
export interface ResolvedValidatorOptions {
  /** Folders holding the schema files. */
  readonly schemaDirs: readonly string[];
  /** Kubernetes version of the core definitions. */
  readonly k8sVersion: string;
  /** Unknown fields are errors. */
  readonly strict: boolean;
  /** The apiserver-style checks run. */
  readonly semantic: boolean;
  /** Pod Security Standards level checked, if any. */
  readonly pss?: PssLevel;
  /** Kinds accepted without a schema. */
  readonly allowKinds: readonly string[];
}

/** A validator bound to one set of options; cheap to create again with the same options. */
export interface Validator {
  /** The options in effect, defaults filled in. */
  readonly options: ResolvedValidatorOptions;
  /** Validates parsed objects, e.g. `chart.toJson()`. `null`/`undefined` entries are skipped. */
  validateObjects(objects: readonly unknown[], file?: string): Report;
  /** Parses multi-document YAML (YAML 1.1 scalars, as kubectl reads them) and validates every document. */
  validateText(yaml: string, file?: string): Report;
}
