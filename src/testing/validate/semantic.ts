import { containersOf, findPodSpecs, WORKLOADS } from './pod-specs';
import { parseQuantity } from './quantity';
import { asArr, asObj, get, gvOf, isObj, type JsonObject, type Segments } from './util';

/** Receives one finding: where (path in the object) and what. */
export type Reporter = (segs: Segments, message: string) => void;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const NAME_AS_LABEL = new Set(['Namespace', 'Service']);
const NAME_AS_PATH_SEGMENT = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const NATIVE_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const SELECTOR_WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);
const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
];

const isLabel = (v: unknown): v is string => typeof v === 'string' && v.length <= 63 && DNS1123_LABEL.test(v);
const isPortName = (v: unknown): v is string => typeof v === 'string' && v.length <= 15 && IANA_SVC_NAME.test(v) && /[a-z]/.test(v);

/** Problems of a qualified name (label or annotation key, extended resource name): `[prefix/]name`. */
export function qualifiedNameErrors(k: string): string[] {
  const i = k.lastIndexOf('/');
  const prefix = i < 0 ? undefined : k.slice(0, i);
  const name = i < 0 ? k : k.slice(i + 1);
  const errs: string[] = [];
  if (prefix !== undefined && (!prefix || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) errs.push(`prefix "${prefix}" must be a DNS subdomain`);
  if (!name || name.length > 63 || !QUALIFIED_NAME.test(name)) errs.push(`name part "${name}" must be <= 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
  return errs;
}

/** Whether a label selector (`matchLabels`, `matchExpressions`) selects these labels. */
export function selectorMatches(sel: JsonObject, labels: JsonObject): boolean {
  for (const [k, v] of Object.entries(asObj(sel.matchLabels))) if (labels[k] !== v) return false;
  for (const e of asArr(sel.matchExpressions).filter(isObj)) {
    const key = String(e.key);
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const inValues = asArr(e.values).includes(labels[key]);
    if (e.operator === 'In' && !(has && inValues)) return false;
    if (e.operator === 'NotIn' && has && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/**
 * Resource requests and limits: valid names and quantities, requests <= limits, and for extended
 * resources such as `nvidia.com/gpu` (containers only): a limit, request == limit, a whole number.
 */
export function checkResources(res: unknown, segs: Segments, report: Reporter, where: 'containers' | 'pvc' = 'containers'): void {
  if (!isObj(res)) return;
  for (const part of ['requests', 'limits']) {
    for (const [name, q] of Object.entries(asObj(res[part]))) {
      const at = [...segs, part, name];
      if (name.includes('/')) {
        for (const e of qualifiedNameErrors(name)) report(at, `resource name: ${e}`);
      } else if (where === 'containers' && !NATIVE_CONTAINER_RESOURCES.has(name) && !name.startsWith('hugepages-')) {
        report(at, `"${name}" is not a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) and has no domain (e.g. nvidia.com/gpu)`);
      }
      const n = parseQuantity(q);
      if (Number.isNaN(n)) report(at, `invalid quantity ${JSON.stringify(q)} (e.g. 500m, 2, 1.5Gi, 512Mi; not "2GB" or "1.5 Gi")`);
      else if (n < 0) report(at, 'must be greater than or equal to 0');
    }
  }
  const req = asObj(res.requests);
  const lim = asObj(res.limits);
  for (const [name, q] of Object.entries(req)) {
    const r = parseQuantity(q);
    const l = name in lim ? parseQuantity(lim[name]) : undefined;
    if (l !== undefined && !Number.isNaN(r) && !Number.isNaN(l) && r > l) {
      report([...segs, 'requests', name], `must be less than or equal to ${name} limit ${JSON.stringify(lim[name])}`);
    }
    const extended = name.includes('/') && !name.startsWith('kubernetes.io/') && !name.startsWith('requests.');
    if (!extended || where !== 'containers') continue;
    if (l === undefined) report([...segs, 'limits', name], `extended resource ${name} must have a limit (requests are copied from limits; overcommit is not allowed)`);
    else if (r !== l) report([...segs, 'requests', name], `extended resource ${name}: request must equal limit`);
    if (!Number.isInteger(r)) report([...segs, 'requests', name], `extended resource ${name} must be a whole number`);
  }
}

/** Label and annotation syntax of a metadata mapping. */
function checkMeta(m: unknown, segs: Segments, report: Reporter): void {
  if (!isObj(m)) return;
  for (const [k, v] of Object.entries(asObj(m.labels))) {
    for (const e of qualifiedNameErrors(k)) report([...segs, 'labels', k], `label key: ${e}`);
    if (typeof v === 'string' && (v.length > 63 || !LABEL_VALUE.test(v))) {
      report([...segs, 'labels', k], `label value "${v}" must be <= 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
    }
  }
  if (!isObj(m.annotations)) return;
  let size = 0;
  for (const [k, v] of Object.entries(m.annotations)) {
    for (const e of qualifiedNameErrors(k)) report([...segs, 'annotations', k], `annotation key: ${e}`);
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) report([...segs, 'annotations'], 'total size of annotations must be <= 256 KiB');
}

function checkNames(obj: JsonObject, group: string, kind: string, report: Reporter): void {
  const md = asObj(obj.metadata);
  if (!md.name && !md.generateName) report(['metadata'], 'missing required field "name"');
  if (typeof md.name === 'string') {
    const name = md.name;
    if (NAME_AS_PATH_SEGMENT.has(kind)) {
      if (/[/%]/.test(name) || name === '.' || name === '..') report(['metadata', 'name'], "may not contain '/' or '%' or be '.' or '..'");
    } else if (NAME_AS_LABEL.has(kind) && !group) {
      if (!isLabel(name)) report(['metadata', 'name'], `"${name}" must be a DNS-1123 label (<= 63 chars of [a-z0-9-])`);
    } else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
      report(['metadata', 'name'], `"${name}" must be a DNS-1123 subdomain (lowercase alphanumerics, '-', '.')`);
    }
    if (kind === 'CronJob' && name.length > 52) report(['metadata', 'name'], 'must be no more than 52 characters for a CronJob');
  }
  if (typeof md.namespace === 'string' && !isLabel(md.namespace)) report(['metadata', 'namespace'], `"${md.namespace}" must be a DNS-1123 label`);
  checkMeta(md, ['metadata'], report);
}

function checkConfigKeys(obj: JsonObject, kind: string, report: Reporter): void {
  const seen = new Set<string>();
  for (const f of ['data', 'binaryData', 'stringData']) {
    for (const k of Object.keys(asObj(obj[f]))) {
      if (k.length > 253 || !CONFIG_KEY.test(k)) report([f, k], "key must consist of alphanumerics, '-', '_' or '.'");
      if (kind === 'ConfigMap' && seen.has(k)) report([f, k], 'duplicate key in data and binaryData');
      seen.add(k);
    }
  }
}

function checkServicePorts(ports: unknown[], report: Reporter): void {
  const names = new Set<unknown>();
  ports.forEach((p, i) => {
    if (!isObj(p)) return;
    const at = ['spec', 'ports', i];
    if (ports.length > 1 && !p.name) report([...at, 'name'], 'name is required when a Service has more than one port');
    if (p.name) {
      if (names.has(p.name)) report([...at, 'name'], `duplicate port name "${String(p.name)}"`);
      names.add(p.name);
    }
    if (typeof p.port === 'number' && (p.port < 1 || p.port > 65535)) report([...at, 'port'], 'must be between 1 and 65535');
    if (typeof p.targetPort === 'string' && !isPortName(p.targetPort)) report([...at, 'targetPort'], `"${p.targetPort}" is not a valid port name (IANA_SVC_NAME)`);
  });
}

function checkWorkloadSelector(obj: JsonObject, kind: string, template: readonly string[], report: Reporter): void {
  const sel = get(obj, ['spec', 'selector']);
  const labels = asObj(get(obj, [...template, 'metadata', 'labels']));
  if (!isObj(sel) || (!isObj(sel.matchLabels) && !Array.isArray(sel.matchExpressions))) report(['spec', 'selector'], 'a non-empty selector is required');
  else if (!selectorMatches(sel, labels)) report(['spec', 'template', 'metadata', 'labels'], '`selector` does not match template `labels`');
  const rp = get(obj, [...template, 'spec', 'restartPolicy']);
  if (rp && rp !== 'Always') report([...template, 'spec', 'restartPolicy'], `must be "Always" for a ${kind}`);
}

function checkVolumes(spec: JsonObject, segs: Segments, report: Reporter): Set<string> {
  const volumes = new Set<string>();
  asArr(spec.volumes).forEach((v, i) => {
    if (!isObj(v)) return;
    const at = [...segs, 'volumes', i];
    if (!isLabel(v.name)) report([...at, 'name'], `volume name ${JSON.stringify(v.name)} must be a DNS-1123 label`);
    else if (volumes.has(v.name)) report([...at, 'name'], `duplicate volume name "${v.name}"`);
    if (typeof v.name === 'string') volumes.add(v.name);
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined);
    if (sources.length > 1) report(at, `may not specify more than 1 volume type (${sources.join(', ')})`);
    const sizeLimit = get(v, ['emptyDir', 'sizeLimit']);
    if (sizeLimit !== undefined && Number.isNaN(parseQuantity(sizeLimit))) report([...at, 'emptyDir', 'sizeLimit'], `invalid quantity ${JSON.stringify(sizeLimit)}`);
  });
  return volumes;
}

function checkContainer(c: JsonObject, at: Segments, ctx: { builtin: boolean; ephemeral: boolean; volumes: Set<string> }, report: Reporter): void {
  if (ctx.builtin && !ctx.ephemeral && (typeof c.image !== 'string' || !c.image.trim())) report([...at, 'image'], 'image is required');
  if (typeof c.image === 'string' && c.image !== c.image.trim()) report([...at, 'image'], 'must not have leading or trailing whitespace');
  checkResources(c.resources, [...at, 'resources'], report);
  const portNames = new Set<string>();
  asArr(c.ports).forEach((p, i) => {
    if (!isObj(p)) return;
    if (typeof p.containerPort === 'number' && (p.containerPort < 1 || p.containerPort > 65535)) report([...at, 'ports', i, 'containerPort'], 'must be between 1 and 65535');
    if (p.name === undefined) return;
    if (!isPortName(p.name) || p.name.includes('--')) {
      report([...at, 'ports', i, 'name'], `port name ${JSON.stringify(p.name)} must be <= 15 chars of [a-z0-9-] with at least one letter`);
    } else if (portNames.has(p.name)) {
      report([...at, 'ports', i, 'name'], `duplicate port name "${p.name}"`);
    }
    if (typeof p.name === 'string') portNames.add(p.name);
  });
  if (ctx.builtin) {
    const paths = new Set<unknown>();
    asArr(c.volumeMounts).forEach((m, i) => {
      if (!isObj(m)) return;
      if (m.name && !ctx.volumes.has(String(m.name))) report([...at, 'volumeMounts', i, 'name'], `no volume named "${String(m.name)}" in the pod spec`);
      if (m.mountPath && paths.has(m.mountPath)) report([...at, 'volumeMounts', i, 'mountPath'], `duplicate mountPath "${String(m.mountPath)}"`);
      paths.add(m.mountPath);
    });
  }
  const env = new Set<unknown>();
  asArr(c.env).forEach((e, i) => {
    if (!isObj(e) || !e.name) return;
    if (env.has(e.name)) {
      report([...at, 'env', i, 'name'], `duplicate env var "${String(e.name)}" (the API server accepts it and the last one wins; kube-score environment-variable-key-duplication)`);
    }
    env.add(e.name);
  });
}

/**
 * A subset of what kube-apiserver validates beyond OpenAPI: object names, label and annotation syntax,
 * ConfigMap/Secret keys, Service ports, quantities, requests <= limits, extended resources (GPUs),
 * container/volume/port names, volumeMounts that name no volume, workload selectors that do not
 * select the template, and duplicate env vars. Every PodSpec is checked, custom resources included.
 */
export function semanticChecks(obj: JsonObject, report: Reporter): void {
  const { group } = gvOf(obj.apiVersion);
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  checkNames(obj, group, kind, report);
  if (!group && (kind === 'ConfigMap' || kind === 'Secret')) checkConfigKeys(obj, kind, report);
  if (!group && kind === 'Service' && Array.isArray(get(obj, ['spec', 'ports']))) checkServicePorts(get(obj, ['spec', 'ports']) as unknown[], report);
  if (!group && kind === 'PersistentVolumeClaim') checkResources(get(obj, ['spec', 'resources']), ['spec', 'resources'], report, 'pvc');
  const template = WORKLOADS.get(kind);
  if (template && !group.includes('.') && SELECTOR_WORKLOADS.has(kind)) checkWorkloadSelector(obj, kind, template, report);
  for (const { spec, segs, builtin } of findPodSpecs(obj)) {
    // the metadata of a pod template (not the object's own, already checked)
    if (segs.length > 1 && segs[segs.length - 1] === 'spec') checkMeta(get(obj, [...segs.slice(0, -1), 'metadata']), [...segs.slice(0, -1), 'metadata'], report);
    const volumes = checkVolumes(spec, segs, report);
    // A StatefulSet's volumeClaimTemplates become volumes of its pods (apps/v1 StatefulSetSpec).
    if (kind === 'StatefulSet' && !group.includes('.')) {
      for (const t of asArr(get(obj, ['spec', 'volumeClaimTemplates']))) {
        const n = isObj(t) && isObj(t.metadata) ? t.metadata.name : undefined;
        if (typeof n === 'string') volumes.add(n);
      }
    }
    if (isObj(spec.resources)) checkResources(spec.resources, [...segs, 'resources'], report);
    const names = new Set<string>();
    for (const { c, segs: cs } of containersOf(spec)) {
      const at = [...segs, ...cs];
      if (!isLabel(c.name)) {
        if (c.name !== undefined || builtin) report([...at, 'name'], `container name ${JSON.stringify(c.name)} must be a DNS-1123 label`);
      } else if (names.has(c.name)) {
        report([...at, 'name'], `duplicate container name "${c.name}"`);
      } else {
        names.add(c.name);
      }
      checkContainer(c, at, { builtin, ephemeral: cs[0] === 'ephemeralContainers', volumes }, report);
    }
  }
}
