import { containersOf, findPodSpecs } from './pod-specs';
import type { Reporter } from './semantic';
import type { PssLevel } from './types';
import { asArr, asObj, get, isObj, type JsonObject, type Segments } from './util';

const BASELINE_CAPS = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES_OK = ['configMap', 'downwardAPI', 'emptyDir', 'projected', 'secret', 'csi', 'persistentVolumeClaim', 'ephemeral', 'image'];
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

function checkSeLinux(o: unknown, segs: Segments, report: Reporter): void {
  if (!isObj(o)) return;
  if (o.type && !SELINUX_TYPES.has(String(o.type))) report([...segs, 'type'], `SELinux type "${String(o.type)}" is not allowed`);
  if (o.user) report([...segs, 'user'], 'custom SELinux user is not allowed');
  if (o.role) report([...segs, 'role'], 'custom SELinux role is not allowed');
}

function checkPodLevel(obj: JsonObject, spec: JsonObject, segs: Segments, level: PssLevel, report: Reporter): void {
  const P: Reporter = (rest, msg) => report([...segs, ...rest], `PSS ${level}: ${msg}`);
  const restricted = level === 'restricted';
  const psc = asObj(spec.securityContext);
  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[ns] === true) P([ns], 'host namespaces are not allowed');
  if (get(psc, ['windowsOptions', 'hostProcess']) === true) P(['securityContext', 'windowsOptions', 'hostProcess'], 'hostProcess is not allowed');
  checkSeLinux(psc.seLinuxOptions, ['securityContext', 'seLinuxOptions'], P);
  if (get(psc, ['seccompProfile', 'type']) === 'Unconfined') P(['securityContext', 'seccompProfile', 'type'], 'seccomp profile Unconfined is not allowed');
  if (get(psc, ['appArmorProfile', 'type']) === 'Unconfined') P(['securityContext', 'appArmorProfile', 'type'], 'AppArmor profile Unconfined is not allowed');
  // AppArmor annotations: those of the pod template, else the object's own
  const templateMeta = segs.length > 1 && segs[segs.length - 1] === 'spec' ? [...segs.slice(0, -1), 'metadata'] : undefined;
  const metaSegs = templateMeta && isObj(get(obj, [...templateMeta, 'annotations'])) ? templateMeta : ['metadata'];
  for (const [k, v] of Object.entries(asObj(get(obj, [...metaSegs, 'annotations'])))) {
    if (k.startsWith(APPARMOR_ANNOTATION) && v && v !== 'runtime/default' && !String(v).startsWith('localhost/')) {
      report([...metaSegs, 'annotations', k], `PSS ${level}: AppArmor annotation value "${String(v)}" is not allowed`);
    }
  }
  asArr(psc.sysctls).forEach((s, i) => {
    const name = get(s, ['name']);
    if (!SAFE_SYSCTLS.has(String(name))) P(['securityContext', 'sysctls', i, 'name'], `sysctl "${String(name)}" is not in the safe set`);
  });
  asArr(spec.volumes).forEach((v, i) => {
    if (!isObj(v)) return;
    if (v.hostPath) {
      P(['volumes', i, 'hostPath'], 'hostPath volumes are not allowed');
    } else if (restricted) {
      const bad = Object.keys(v).filter((k) => k !== 'name' && !RESTRICTED_VOLUMES_OK.includes(k));
      if (bad.length) P(['volumes', i, bad[0]], `volume type ${bad[0]} is not allowed (only ${RESTRICTED_VOLUMES_OK.join(', ')})`);
    }
  });
  if (restricted && psc.runAsUser === 0) P(['securityContext', 'runAsUser'], 'runAsUser 0 is not allowed');
  if (restricted && psc.runAsNonRoot === false) P(['securityContext', 'runAsNonRoot'], 'runAsNonRoot must not be false');
}

function checkContainer(c: JsonObject, cs: Segments, psc: JsonObject, restricted: boolean, P: Reporter): void {
  const sc = asObj(c.securityContext);
  const who = `container "${String(c.name)}"`;
  const C: Reporter = (rest, msg) => P([...cs, 'securityContext', ...rest], `${who}: ${msg}`);
  const add = asArr(get(sc, ['capabilities', 'add']));
  if (sc.privileged === true) C(['privileged'], 'privileged is not allowed');
  if (get(sc, ['windowsOptions', 'hostProcess']) === true) C(['windowsOptions', 'hostProcess'], 'hostProcess is not allowed');
  if (sc.procMount && sc.procMount !== 'Default') C(['procMount'], `procMount ${String(sc.procMount)} is not allowed`);
  checkSeLinux(sc.seLinuxOptions, [...cs, 'securityContext', 'seLinuxOptions'], P);
  if (get(sc, ['seccompProfile', 'type']) === 'Unconfined') C(['seccompProfile', 'type'], 'seccomp profile Unconfined is not allowed');
  if (get(sc, ['appArmorProfile', 'type']) === 'Unconfined') C(['appArmorProfile', 'type'], 'AppArmor profile Unconfined is not allowed');
  for (const a of add) if (!BASELINE_CAPS.has(String(a))) C(['capabilities', 'add'], `adding capability ${String(a)} is not allowed`);
  asArr(c.ports).forEach((p, i) => { if (get(p, ['hostPort'])) P([...cs, 'ports', i, 'hostPort'], `${who}: hostPort is not allowed`); });
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    for (const h of ['httpGet', 'tcpSocket']) if (get(c, [probe, h, 'host'])) P([...cs, probe, h, 'host'], `${who}: probe host field is not allowed`);
  }
  for (const hook of ['postStart', 'preStop']) {
    for (const h of ['httpGet', 'tcpSocket']) if (get(c, ['lifecycle', hook, h, 'host'])) P([...cs, 'lifecycle', hook, h, 'host'], `${who}: lifecycle host field is not allowed`);
  }
  if (!restricted) return;
  if (sc.allowPrivilegeEscalation !== false) C(['allowPrivilegeEscalation'], 'allowPrivilegeEscalation must be false');
  if (sc.runAsNonRoot === false || (psc.runAsNonRoot !== true && sc.runAsNonRoot !== true)) C(['runAsNonRoot'], 'runAsNonRoot must be true (here or at pod level)');
  if (sc.runAsUser === 0) C(['runAsUser'], 'runAsUser 0 is not allowed');
  const podSeccomp = get(psc, ['seccompProfile', 'type']);
  const podSeccompOk = podSeccomp === 'RuntimeDefault' || podSeccomp === 'Localhost';
  const t = get(sc, ['seccompProfile', 'type']);
  if (!(t === 'RuntimeDefault' || t === 'Localhost' || (t === undefined && podSeccompOk))) {
    C(['seccompProfile', 'type'], 'seccompProfile.type must be RuntimeDefault or Localhost (here or at pod level)');
  }
  if (!asArr(get(sc, ['capabilities', 'drop'])).includes('ALL')) C(['capabilities', 'drop'], 'capabilities.drop must include "ALL"');
  for (const a of add) if (a !== 'NET_BIND_SERVICE') C(['capabilities', 'add'], `only NET_BIND_SERVICE may be added, not ${String(a)}`);
}

/**
 * Pod Security Standards, following the "latest" policy of k8s.io/pod-security-admission
 * (check_*.go), on every PodSpec of the object, custom resources included. The Windows-pod and
 * `hostUsers: false` exemptions are not modelled.
 */
export function podSecurityChecks(obj: JsonObject, level: PssLevel, report: Reporter): void {
  const restricted = level === 'restricted';
  for (const { spec, segs } of findPodSpecs(obj)) {
    checkPodLevel(obj, spec, segs, level, report);
    const P: Reporter = (rest, msg) => report([...segs, ...rest], `PSS ${level}: ${msg}`);
    const psc = asObj(spec.securityContext);
    for (const { c, segs: cs } of containersOf(spec)) checkContainer(c, cs, psc, restricted, P);
  }
}
