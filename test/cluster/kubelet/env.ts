/**
 * A container's environment, command and arguments as the kubelet and the runtime give them
 * (k8s.io/kubernetes@v1.37.2):
 * - pkg/kubelet/kubelet_pods.go `makeEnvironmentVariables`: `envFrom` first (later sources win,
 *   `prefix` prepended), then `env` in order — a `value` has its `$(VAR)` references expanded
 *   against the variables defined so far and the service variables; `valueFrom` reads
 *   secretKeyRef / configMapKeyRef (a missing object or key fails the container unless `optional`,
 *   in which case the variable is left out), fieldRef and resourceFieldRef; then the service
 *   variables not already defined;
 * - service variables (`getServiceEnvVarMap`, pkg/kubelet/envvars/envvars.go `FromServices`):
 *   the master Service `kubernetes` of `default` always, every Service of the pod's namespace with a
 *   cluster IP when `enableServiceLinks`; every Service here is at 127.0.0.1;
 * - pkg/kubelet/container/helpers.go `ExpandContainerCommandAndArgs`: `$(VAR)` in command and args
 *   against the final environment;
 * - the runtime: the image's ENV under the container's (a container variable replaces the image's),
 *   ENTRYPOINT replaced by `command`, CMD by `args` (and dropped when only `command` is given); HOME,
 *   when neither sets it, from the image's /etc/passwd for the uid, else `/` (runc
 *   libcontainer/init_linux.go `setupUser`).
 */
import { expand, mappingFuncFor } from './expansion';
import type { ImageStandIn } from './images';
import { PodInstance, podField } from './pod';
import { ContainerConfigError } from './rules';
import { KubeObject, ObjectSource, configMapData, secretData } from './source';

/** The master Service the kubelet always injects (the API server, if the harness has one). */
export interface MasterService {
  readonly host: string;
  readonly port: number;
}

/** What a process gets. */
export interface ProcessSpec {
  /** The environment, image variables first, in the order the runtime passes them. */
  readonly env: [string, string][];
  /** argv: entrypoint/command then cmd/args. */
  readonly argv: string[];
  readonly workingDir: string;
}

/** The service variables of `services` (envvars.go `FromServices`); cluster IPs are 127.0.0.1. */
export function serviceEnv(services: readonly KubeObject[]): Map<string, string> {
  const m = new Map<string, string>();
  const up = (s: string) => s.toUpperCase().replace(/-/g, '_');
  for (const s of services) {
    if (s.spec?.clusterIP === 'None' || s.spec?.type === 'ExternalName' || !s.spec?.ports?.length) continue;
    const ip = '127.0.0.1';
    const prefix = up(s.metadata.name!);
    m.set(`${prefix}_SERVICE_HOST`, ip);
    m.set(`${prefix}_SERVICE_PORT`, String(s.spec.ports[0].port));
    for (const p of s.spec.ports) if (p.name) m.set(`${prefix}_SERVICE_PORT_${up(p.name)}`, String(p.port));
    s.spec.ports.forEach((p: any, i: number) => {
      const proto = (p.protocol ?? 'TCP') as string;
      const url = `${proto.toLowerCase()}://${ip}:${p.port}`;
      if (i === 0) m.set(`${prefix}_PORT`, url);
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      m.set(pp, url);
      m.set(`${pp}_PROTO`, proto.toLowerCase());
      m.set(`${pp}_PORT`, String(p.port));
      m.set(`${pp}_ADDR`, ip);
    });
  }
  return m;
}

/** `containerResourceRuntimeValue` for limits/requests of cpu and memory (divisor 1 unless given). */
export function resourceValue(container: any, resource: string, divisor = '1'): string {
  const [kind, name] = resource.split('.');
  const q = container.resources?.[kind]?.[name];
  if (q === undefined) throw new ContainerConfigError(`resourceFieldRef ${resource}: not set on container ${container.name} (the node's allocatable is not modelled)`);
  const value = quantity(q);
  const d = quantity(divisor);
  // pkg/api/v1/resource `ExtractContainerResourceValue`: ceil(value / divisor).
  return String(Math.ceil(value / d));
}

function quantity(q: string | number): number {
  const s = String(q);
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(s);
  if (!m) throw new ContainerConfigError(`quantity ${s} is not supported by the harness`);
  const mult: Record<string, number> = { '': 1, 'm': 1e-3, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'Ki': 1024, 'Mi': 1024 ** 2, 'Gi': 1024 ** 3, 'Ti': 1024 ** 4 };
  return Number(m[1]) * mult[m[2] ?? ''];
}

/** The container's environment, argv and working directory. `home` is the image's home of the uid, if it has one. */
export async function processSpec(
  pod: PodInstance, container: any, image: ImageStandIn, source: ObjectSource, opts: { master?: MasterService; uid: number },
): Promise<ProcessSpec> {
  const ns = pod.namespace;
  const services = pod.spec.enableServiceLinks === false ? [] : await source.listObjects('Service', ns);
  const svc = serviceEnv(services);
  if (opts.master) {
    for (const [k, v] of serviceEnv([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' }, spec: { ports: [{ name: 'https', port: opts.master.port, protocol: 'TCP' }] } }])) {
      svc.set(k, k.endsWith('_ADDR') || k.endsWith('_HOST') ? opts.master.host : v.replace('127.0.0.1', opts.master.host));
    }
  }
  const secrets = new Map<string, Record<string, Buffer> | undefined>();
  const configMaps = new Map<string, Record<string, Buffer> | undefined>();
  const getSecret = async (name: string) => {
    if (!secrets.has(name)) {
      const s = await source.getObject('Secret', ns, name);
      secrets.set(name, s ? secretData(s) : undefined);
    }
    return secrets.get(name);
  };
  const getConfigMap = async (name: string) => {
    if (!configMaps.has(name)) {
      const c = await source.getObject('ConfigMap', ns, name);
      configMaps.set(name, c ? configMapData(c) : undefined);
    }
    return configMaps.get(name);
  };

  const tmp = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const data = from.configMapRef ? await getConfigMap(ref.name) : await getSecret(ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${from.configMapRef ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) tmp.set(`${from.prefix ?? ''}${k}`, v.toString('utf8'));
  }
  const mapping = mappingFuncFor(tmp, svc);
  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    if (value !== '') {
      value = expand(value, mapping);
    } else if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) {
        value = podField(pod, vf.fieldRef.fieldPath);
      } else if (vf.resourceFieldRef) {
        const named = vf.resourceFieldRef.containerName;
        const target = named ? [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c: any) => c.name === named) : container;
        value = resourceValue(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor);
      } else if (vf.secretKeyRef || vf.configMapKeyRef) {
        const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
        const what = vf.secretKeyRef ? 'Secret' : 'ConfigMap';
        const data = vf.secretKeyRef ? await getSecret(ref.name) : await getConfigMap(ref.name);
        if (!data) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`${what.toLowerCase()} "${ref.name}" not found`);
        }
        if (data[ref.key] === undefined) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`couldn't find key ${ref.key} in ${what} ${ns}/${ref.name}`);
        }
        value = data[ref.key].toString('utf8');
      } else {
        throw new ContainerConfigError(`env ${e.name}: valueFrom ${Object.keys(vf).join(',')} is not supported by the harness`);
      }
    }
    tmp.set(e.name, value);
  }
  const kubeletEnv = new Map(tmp);
  for (const [k, v] of svc) if (!kubeletEnv.has(k)) kubeletEnv.set(k, v);

  // ExpandContainerCommandAndArgs, then the runtime's ENTRYPOINT/CMD rule.
  const all = mappingFuncFor(kubeletEnv);
  const command = (container.command ?? []).map((c: string) => expand(c, all));
  const args = (container.args ?? []).map((a: string) => expand(a, all));
  const argv = command.length ? [...command, ...args] : [...image.entrypoint, ...(args.length ? args : image.cmd)];
  if (!argv.length) throw new ContainerConfigError(`container ${container.name}: no command specified`);

  const env = new Map<string, string>(Object.entries(image.env));
  for (const [k, v] of kubeletEnv) env.set(k, v);
  if (!env.has('HOME')) env.set('HOME', image.home?.[opts.uid] ?? '/');
  return { env: [...env], argv, workingDir: container.workingDir || image.workingDir || '/' };
}
