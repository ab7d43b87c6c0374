import { Issues } from '../errors';
import { isPinnedImage, VERSIONS } from '../versions';

/**
 * The images a sweep runs besides the user's trial image, from `VERSIONS.images` (`optuna`,
 * `optunaDashboard`):
 * - **optuna** — the official Optuna release image (`optuna/optuna:v<release>-py<python>`, built by
 *   Optuna's release workflow from its Dockerfile: a Debian `python` base with `/bin/sh`, Optuna
 *   installed from the release, and `psycopg2-binary`, `PyMySQL` and `cryptography` for RDB
 *   storages). The sweep program needs Optuna, SQLAlchemy and psycopg2; it talks to MLflow over REST
 *   with the standard library, so no mlflow package is needed. It has no USER line: pods run it as
 *   uid 1000 with `HOME=/tmp`.
 * - **dashboard** — optuna-dashboard's own image (ghcr.io, pushed on each release), which bundles
 *   Optuna, psycopg2-binary and gunicorn.
 */
export interface SweepImages {
  /** Runs study creation, the wait probe and the Optuna worker loop. */
  readonly optuna: string;
  /** Serves optuna-dashboard. */
  readonly dashboard: string;
}

/** The pinned sweep images. */
export const SWEEP_IMAGES: SweepImages = Object.freeze({
  optuna: VERSIONS.images.optuna,
  dashboard: VERSIONS.images.optunaDashboard,
});

/** {@link SWEEP_IMAGES} with overrides, each checked to be pinned. */
export function resolveSweepImages(issues: Issues, path: string, overrides: Partial<SweepImages> = {}): SweepImages {
  const images = Object.assign({}, SWEEP_IMAGES, overrides);
  for (const [k, v] of Object.entries(overrides)) {
    if (typeof v !== 'string' || !isPinnedImage(v)) issues.add(`${path}.${k}`, v, 'must be a pinned image reference (a tag other than "latest", or a digest)');
  }
  return images;
}
