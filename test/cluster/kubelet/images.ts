/**
 * The pinned images (src/core/versions.ts `VERSIONS.images`) and the local programs that stand in
 * for them. There is no container runtime here: a container's root filesystem is the host's, seen
 * through an overlay (so nothing of the host changes), with the image's facts that our pods depend
 * on put back: its ENTRYPOINT/CMD, ENV (PATH, HOME, LANG), WORKDIR, the users of its /etc/passwd and
 * /etc/group, and the files our pods run at their image paths. What differs from each image is said
 * in its entry; an image with no entry cannot be run (the static check still reads it as an image
 * with no USER).
 */
import { readFileSync } from 'fs';
import { dirname, join } from 'path';
import { findEngines } from './engines';
import { ImageUsers } from './rules';
import { VERSIONS } from '../../../src/core';

/** A file the stand-in puts into the container's root. */
export type ImageFile = { readonly symlink: string } | { readonly content: string; readonly mode: number } | { readonly dir: true; readonly mode: number };

/** An image as the harness runs it. */
export interface ImageStandIn {
  readonly image: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir: string;
  readonly users: ImageUsers;
  /** Home folder of each uid in the image's /etc/passwd (runc sets HOME from it). */
  readonly home?: Readonly<Record<number, string>>;
  /** The image's /etc/passwd and /etc/group. */
  readonly passwd: string;
  readonly group: string;
  /** Files at image paths. */
  readonly files: Readonly<Record<string, ImageFile>>;
  /** Host folders the process must reach (engines under /root): their parents get o+x in the container's own layer. */
  readonly reachable: readonly string[];
}

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ROOT_ONLY = { passwd: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n', group: 'root:x:0:\nnogroup:x:65534:\n' };

/**
 * `ghcr.io/mlflow/mlflow:<v>-full` (mlflow/mlflow docker/Dockerfile.full: python:3.11-slim-bookworm
 * + `pip install mlflow[extras,azure,db,gateway,genai,auth]`; no ENTRYPOINT, CMD python3, no USER).
 * Stand-in: the tier's virtualenv (MLflow 3.17.2, the newest release whose dependencies install from
 * this project's registry, vs 3.18.0 in the image; Debian's python3 3.11 with Debian's psycopg2 and
 * boto3) first on PATH, where the image has /usr/local/bin.
 */
function mlflow(): ImageStandIn {
  const venv = join(findEngines(['python']).python.bin, '..');
  return {
    image: VERSIONS.images.mlflow,
    entrypoint: [],
    cmd: ['python3'],
    env: { PATH: `${join(venv, 'bin')}:/usr/local/bin:${BASE_PATH}`, LANG: 'C.UTF-8', PYTHON_VERSION: '3.11' },
    workingDir: '/',
    users: { primaryGid: { 0: 0, 65534: 65534 } },
    home: { 0: '/root' },
    ...ROOT_ONLY,
    files: {},
    reachable: [venv],
  };
}

/**
 * `docker.io/optuna/optuna:<v>-py3.12` (python:3.12 + optuna + psycopg2, no USER). Stand-in: the same
 * virtualenv (Optuna 4.9.0 as pinned, Python 3.11 instead of 3.12).
 */
function optuna(): ImageStandIn {
  return { ...mlflow(), image: VERSIONS.images.optuna };
}

/**
 * `docker.io/chrislusf/seaweedfs:<v>` (seaweedfs/seaweedfs docker/Dockerfile.go_build: alpine,
 * /usr/bin/weed, ENTRYPOINT /entrypoint.sh, WORKDIR /data, no USER). Stand-in: `weed` built from
 * the Go module at the pinned commit, at /usr/bin/weed. Not installed: /entrypoint.sh (our pod runs
 * /usr/bin/weed itself) and the image's /etc/seaweedfs/filer.toml (our pod mounts a volume over
 * /etc/seaweedfs, which hides it in the image too).
 */
function seaweedfs(): ImageStandIn {
  const bin = findEngines(['seaweedfs']).seaweedfs.bin;
  return {
    image: VERSIONS.images.objectStore,
    entrypoint: ['/entrypoint.sh'],
    cmd: [],
    env: { PATH: BASE_PATH },
    workingDir: '/data',
    users: { primaryGid: { 0: 0, 65534: 65534 } },
    home: { 0: '/root' },
    ...ROOT_ONLY,
    files: { '/usr/bin/weed': { symlink: join(bin, 'weed') } },
    reachable: [bin],
  };
}

/**
 * `docker.io/library/postgres:17.x-alpine` (docker-library/postgres 17/alpine3.24/Dockerfile:
 * ENTRYPOINT docker-entrypoint.sh, CMD postgres, user postgres 70:70, PGDATA
 * /var/lib/postgresql/data, /var/run/postgresql 3777 postgres, /docker-entrypoint-initdb.d).
 * Stand-in: Debian's PostgreSQL 15 binaries (the image has 17) first on PATH, LANG C.UTF-8 (Debian
 * has no en_US.utf8 locale here), and postgres-entrypoint.sh — written for the harness, not the
 * image's script — doing what the image's docker-entrypoint.sh does for the variables our pod sets.
 */
function postgres(): ImageStandIn {
  return {
    image: VERSIONS.images.postgres,
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['postgres'],
    env: { PATH: `/usr/lib/postgresql/15/bin:${BASE_PATH}`, LANG: 'C.UTF-8', PG_MAJOR: '15', PGDATA: '/var/lib/postgresql/data' },
    workingDir: '/',
    users: { primaryGid: { 0: 0, 70: 70 } },
    home: { 0: '/root', 70: '/var/lib/postgresql' },
    passwd: `${ROOT_ONLY.passwd}postgres:x:70:70:PostgreSQL:/var/lib/postgresql:/bin/sh\n`,
    group: `${ROOT_ONLY.group}postgres:x:70:\n`,
    files: {
      '/usr/local/bin/docker-entrypoint.sh': { content: readFileSync(join(__dirname, 'postgres-entrypoint.sh'), 'utf8'), mode: 0o755 },
      '/docker-entrypoint-initdb.d': { dir: true, mode: 0o755 },
      '/var/run/postgresql': { dir: true, mode: 0o3777 },
    },
    reachable: [],
  };
}

/**
 * A Python image (`python:3.x-slim`, the Optuna image) stood in for by `python`: by default Debian's own
 * Python 3.11 with Debian's python3-optuna (3.1), python3-psycopg2 and python3-boto3 — for the engine
 * tier, which runs without the cluster tier's virtualenv (`npm test` before
 * `test/cluster/build-engines.sh` in CI) — or a virtualenv's `bin/python` (its bin folder first on
 * PATH, as the MLflow stand-in has it). `python` and `python3` are on PATH; no USER.
 */
export function debianPython(image: string, python = '/usr/bin/python3'): ImageStandIn {
  if (python !== '/usr/bin/python3') {
    const bin = dirname(python);
    return { ...mlflow(), image, env: { PATH: `${bin}:${BASE_PATH}`, LANG: 'C.UTF-8' }, reachable: [dirname(bin)] };
  }
  return {
    image,
    entrypoint: [],
    cmd: ['python3'],
    env: { PATH: BASE_PATH, LANG: 'C.UTF-8' },
    workingDir: '/',
    users: { primaryGid: { 0: 0, 65534: 65534 } },
    home: { 0: '/root' },
    ...ROOT_ONLY,
    files: { '/usr/local/bin/python': { symlink: '/usr/bin/python3' }, '/usr/local/bin/python3': { symlink: '/usr/bin/python3' } },
    reachable: [],
  };
}

const STAND_INS: Record<string, () => ImageStandIn> = {
  [VERSIONS.images.mlflow]: mlflow,
  [VERSIONS.images.optuna]: optuna,
  [VERSIONS.images.objectStore]: seaweedfs,
  [VERSIONS.images.postgres]: postgres,
};

/** Users of the images with no stand-in (for the static check): none sets USER. */
const NO_USER: ImageUsers = { primaryGid: {} };

/** The stand-in of `image`. `optional`: undefined instead of an error for an image with none (for the static check). */
export function imageFor(image: string, opts: { optional: true }): { users: ImageUsers } | undefined;
export function imageFor(image: string, opts?: { optional?: false }): ImageStandIn;
export function imageFor(image: string, opts: { optional?: boolean } = {}): ImageStandIn | { users: ImageUsers } | undefined {
  const make = STAND_INS[image];
  if (make) return opts.optional ? { users: userFacts(image) } : make();
  if (opts.optional) return { users: NO_USER };
  throw new Error(`the harness has no stand-in for image ${image} (stand-ins: ${Object.keys(STAND_INS).join(', ')})`);
}

/** The image's user facts without locating its engines. */
function userFacts(image: string): ImageUsers {
  return image === VERSIONS.images.postgres ? { primaryGid: { 0: 0, 70: 70 } } : { primaryGid: { 0: 0, 65534: 65534 } };
}
