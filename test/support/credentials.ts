/**
 * What a container's program reads as credentials, resolved from a synthesized pod spec the way the
 * kubelet lays the files out: each `<VARIABLE>_FILE` env var names a path; the container's mount of a
 * Secret or projected volume at that path's folder, and the volume's `items`, give the Secret key the file
 * holds. (The programs read `<VARIABLE>_FILE`: src/programs/*.py `credential`/`load_credentials`/`store_keys`.)
 */

/** A Secret key. */
export interface SecretKey {
  readonly name: string;
  readonly key: string;
}

/** `{ VARIABLE: { name, key } }` for every `<VARIABLE>_FILE` of `container` that resolves to a mounted Secret key; throws for one that does not. */
export function credentialFilesOf(pod: any, container: any): Record<string, SecretKey> {
  const out: Record<string, SecretKey> = {};
  for (const e of container.env ?? []) {
    if (!e.name.endsWith('_FILE') || typeof e.value !== 'string') continue;
    const path: string = e.value;
    // The deepest mount holding the path (a mount nested in another one, e.g. /tmp/.mlflow in /tmp, shadows it).
    const mount = (container.volumeMounts ?? []).filter((m: any) => path.startsWith(`${m.mountPath}/`))
      .sort((x: any, y: any) => y.mountPath.length - x.mountPath.length)[0];
    if (!mount) throw new Error(`${container.name}: ${e.name}=${path} is under no mount`);
    const file = path.slice(mount.mountPath.length + 1);
    const volume = (pod.volumes ?? []).find((v: any) => v.name === mount.name);
    const sources = volume?.secret ? [{ secret: { name: volume.secret.secretName, items: volume.secret.items } }] : volume?.projected?.sources ?? [];
    const hits = sources.flatMap((s: any) => (s.secret?.items ?? []).filter((i: any) => i.path === file).map((i: any) => ({ name: s.secret.name, key: i.key })));
    if (hits.length !== 1) throw new Error(`${container.name}: ${e.name}=${path} resolves to ${hits.length} Secret keys in volume ${mount.name}`);
    out[e.name.slice(0, -'_FILE'.length)] = hits[0];
  }
  return out;
}

/** Every env var of `container` that reads a Secret key (`valueFrom.secretKeyRef`), by name. */
export function secretEnvOf(container: any): Record<string, SecretKey> {
  const out: Record<string, SecretKey> = {};
  for (const e of container.env ?? []) if (e.valueFrom?.secretKeyRef) out[e.name] = { name: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key };
  return out;
}

/**
 * The environment a container's program works with, by name: plain values, `valueFrom` as is, and each
 * credential file as the variable it stands for (`{ secretKeyRef }`, no `_FILE` entry) — what the program
 * sets or reads in its own process (fetch_model.py `load_credentials`, sweep_lib.py `credential`).
 */
export function programEnvOf(pod: any, container: any): Record<string, any> {
  const files = credentialFilesOf(pod, container);
  const out: Record<string, any> = {};
  for (const e of container.env ?? []) {
    const stands = e.name.endsWith('_FILE') ? e.name.slice(0, -'_FILE'.length) : undefined;
    if (stands && files[stands]) out[stands] = { secretKeyRef: files[stands] };
    else out[e.name] = e.value ?? e.valueFrom;
  }
  return out;
}

/**
 * A tenant store Secret as the bootstrap writes it: the keys and the AWS shared credentials file made of
 * them (bootstrap.py `ini_file`, `[default]`), which the users' containers mount.
 */
export function storeSecretData(accessKeyId: string, secretAccessKey: string): Record<string, string> {
  return { accessKeyId, secretAccessKey, credentials: `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n` };
}

/** A tenant tracking Secret as the bootstrap writes it: the login and MLflow's `~/.mlflow/credentials` made of it (`[mlflow]`). */
export function trackingSecretData(username: string, password: string): Record<string, string> {
  return { username, password, credentials: `[mlflow]\nmlflow_tracking_username = ${username}\nmlflow_tracking_password = ${password}\n` };
}
