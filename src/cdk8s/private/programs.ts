import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The programs the pods run, by the file name they have in their ConfigMap. Each is a real file in
 * `src/programs/` (linted by shellcheck and pyflakes, unit-tested by pytest in `test/programs/`); the
 * build copies them to `lib/programs/`, beside the compiled renderers.
 *
 * - `bootstrap.py` — the credentials bootstrap (bootstrap Job, MLflow image: Python 3 and boto3). It
 *   reads a plan (`plan.json`, synthesized by MlPlatform) and generates, composes and copies Secrets,
 *   creates the bucket on the embedded object store and one MLflow user per tenant.
 * - `mlflow_oidc_auth.py` — MLflow's authorization function in OIDC mode (tracking pod): people who
 *   signed in through OAuth2 Proxy act as their tenant's MLflow user, everyone else uses basic auth.
 * - `payload_logger.py` — the reverse proxy beside a model server that logs sampled requests and
 *   responses to the object store (ModelEndpoint's `logging`).
 * - `fetch_model.py` — ModelEndpoint's fetch step: downloads the model (`models:/` or `s3://`) with
 *   MLflow into the model volume (passed inline: `python -c`).
 * - `sweep.py`, `sweep_lib.py`, `sweep_trial.py` — the Optuna side of a TuningSweep: study creation,
 *   the workers' wait and loop, one trial, and what they share (configuration, storage, samplers,
 *   pruners, search space, metric lines, MLflow client).
 * - `runner.sh` — the trial container's main process (POSIX sh and `sleep` only): it runs the trials
 *   the Optuna container hands over through files in the shared `emptyDir`, and always exits.
 * - `step_io.py` — a pipeline step's store I/O (MLflow image: Python 3 and boto3): pulls bucket
 *   datasets (and a multi-node step's inputs) before the step, uploads a multi-node step's outputs
 *   after it.
 * - `step_node.sh` — the main process of a multi-node step with outputs (POSIX sh): runs the
 *   step's command and hands its exit status to the uploading container.
 */
export const PROGRAM_NAMES = ['bootstrap.py', 'mlflow_oidc_auth.py', 'payload_logger.py', 'fetch_model.py', 'sweep.py', 'sweep_lib.py', 'sweep_trial.py', 'runner.sh', 'step_io.py', 'step_node.sh'] as const;

/** The file name of one of the {@link PROGRAM_NAMES}. */
export type ProgramName = typeof PROGRAM_NAMES[number];

/** A program's text as the pods get it, and its digest. */
export interface Program {
  readonly name: ProgramName;
  readonly text: string;
  /** SHA-256 of the text (UTF-8), in lowercase hex. */
  readonly sha256: string;
}

/** Where the program files are: beside this module's folder's parent (`src/programs` from the sources, `lib/programs` in the package). */
export const PROGRAMS_DIR = join(__dirname, '..', '..', 'programs');

const loaded = new Map<ProgramName, Program>();

/** A program, read from {@link PROGRAMS_DIR} on first use and kept for the life of the process. */
export function program(name: ProgramName): Program {
  let p = loaded.get(name);
  if (p === undefined) {
    const file = join(PROGRAMS_DIR, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`mlplatform: cannot read the program ${name} (${file}): ${(e as Error).message}. The build copies src/programs/ to lib/programs/ (npm run compile).`);
    }
    p = { name, text, sha256: createHash('sha256').update(text, 'utf8').digest('hex') };
    loaded.set(name, p);
  }
  return p;
}
