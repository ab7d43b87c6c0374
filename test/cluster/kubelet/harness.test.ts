/**
 * The harness itself, on pod specs built here: `$(VAR)` expansion as Kubernetes does it, the
 * kubelet's owners and modes (and the kernel agreeing with the rules the static check uses), the
 * container's identity, a read-only root, mounts at their paths.
 */
import { existsSync, mkdtempSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { expand, mappingFuncFor } from './expansion';
import { Kubelet, RunningPod } from './kubelet';
import { checkPod } from './readability';
import { DEFAULT_MODE, atomicWriterLayout, changeFilePermission, claimLayout, emptyDirLayout, makePayload, permits, resolve } from './rules';
import { MemorySource } from './source';
import { VERSIONS } from '../../../src/core';

const TIMEOUT = 60_000;
/** An image whose stand-in needs no engine: the postgres one, run with `/bin/sh` (the host's, through the overlay). */
const IMAGE = VERSIONS.images.postgres;

describe('$(VAR) expansion (third_party/forked/golang/expansion/expand.go)', () => {
  const vars = mappingFuncFor({ A: 'a', EMPTY: '', B: '$(A)' });
  test.each([
    ['$(A)', 'a'],
    ['x$(A)y$(A)', 'xaya'],
    ['$(EMPTY)|', '|'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$a'],
    ['$(A', '$(A'],
    ['$A', '$A'],
    ['a$', 'a$'],
    ['$()', '$()'],
    ['$(B)', '$(A)'], // one pass: a value is not expanded again
    ['€$(A)€', '€a€'],
  ])('%s → %s', (input, out) => {
    expect(expand(input, vars)).toBe(out);
  });
});

describe('volume rules (pkg/volume: MakePayload, AtomicWriter, SetVolumeOwnership)', () => {
  const data = { a: Buffer.from('A'), b: Buffer.from('B') };
  test('defaultMode and items: modes, root:root, the ..data layout', () => {
    const p = makePayload('secret "s"', [{ key: 'a', path: 'dir/a.txt', mode: 0o400 }, { key: 'b', path: 'b' }], data, 0o440, false);
    const l = atomicWriterLayout('v', 'secret', p, undefined, '..stamp');
    const by = Object.fromEntries(l.nodes.map((n) => [n.path, n]));
    expect(by['']).toMatchObject({ kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
    expect(by['..stamp']).toMatchObject({ kind: 'dir', mode: 0o755 });
    expect(by['..stamp/dir']).toMatchObject({ kind: 'dir', mode: 0o755 });
    expect(by['..stamp/dir/a.txt']).toMatchObject({ kind: 'file', mode: 0o400, uid: 0, gid: 0 });
    expect(by['..stamp/b']).toMatchObject({ kind: 'file', mode: 0o440, uid: 0, gid: 0 });
    expect(by['..data']).toMatchObject({ kind: 'symlink', target: '..stamp' });
    expect(by.dir).toMatchObject({ kind: 'symlink', target: '..data/dir' });
    expect(by.b).toMatchObject({ kind: 'symlink', target: '..data/b' });
    const u1000 = { uid: 1000, gid: 1000, groups: [] };
    expect(resolve(l, u1000, 'b').node?.path).toBe('..stamp/b');
    expect(permits(u1000, resolve(l, u1000, 'b').node!, 4)).toBe(false);
  });

  test('fsGroup: group fsGroup, |0440 on files of read-only volumes, setgid and g+x on directories', () => {
    const p = makePayload('secret "s"', undefined, data, 0o400, false);
    const l = atomicWriterLayout('v', 'secret', p, 3456, '..stamp');
    const by = Object.fromEntries(l.nodes.map((n) => [n.path, n]));
    expect(by['..stamp/a']).toMatchObject({ mode: 0o440, uid: 0, gid: 3456 });
    expect(by['']).toMatchObject({ mode: 0o3777, gid: 3456 });
    expect(by['..stamp']).toMatchObject({ mode: 0o2755, gid: 3456 });
    // The symlinks are created after the ownership change: still root:root.
    expect(by['..data']).toMatchObject({ gid: 0 });
    expect(permits({ uid: 1000, gid: 1000, groups: [3456] }, by['..stamp/a'], 4)).toBe(true);
  });

  test('a missing key fails unless optional; a missing object fails unless optional', () => {
    expect(() => makePayload('secret "s"', [{ key: 'nope', path: 'n' }], data, DEFAULT_MODE, false)).toThrow('references non-existent key: nope');
    expect(makePayload('secret "s"', [{ key: 'nope', path: 'n' }], data, DEFAULT_MODE, true)).toEqual({});
    expect(() => makePayload('secret "s"', undefined, undefined, DEFAULT_MODE, false)).toThrow('secret "s" not found');
    expect(makePayload('secret "s"', undefined, undefined, DEFAULT_MODE, true)).toEqual({});
  });

  test('emptyDir 0777 (tmpfs 1777), with fsGroup |0660 + setgid + g+x; a claim root:root 0755 until fsGroup', () => {
    expect(emptyDirLayout('e', undefined, undefined).nodes[0].mode).toBe(0o777);
    expect(emptyDirLayout('e', 'Memory', undefined).nodes[0].mode).toBe(0o1777);
    expect(emptyDirLayout('e', undefined, 70).nodes[0]).toMatchObject({ mode: 0o2777, gid: 70 });
    expect(claimLayout('c', undefined, undefined).nodes[0]).toMatchObject({ mode: 0o755, uid: 0, gid: 0 });
    expect(claimLayout('c', 70, 'OnRootMismatch').nodes[0]).toMatchObject({ mode: 0o2775, gid: 70 });
    // OnRootMismatch: a root that already matches is left alone, even with a file that does not.
    const existing = [{ path: '', kind: 'dir' as const, mode: 0o2770, uid: 70, gid: 70 }, { path: 'f', kind: 'file' as const, mode: 0o600, uid: 0, gid: 0 }];
    expect(claimLayout('c', 70, 'OnRootMismatch', existing.map((n) => ({ ...n }))).nodes[1]).toMatchObject({ mode: 0o600, gid: 0 });
    expect(claimLayout('c', 70, undefined, existing.map((n) => ({ ...n }))).nodes[1]).toMatchObject({ mode: 0o660, gid: 70 });
    const n = { path: 'x', kind: 'symlink' as const, mode: 0o777, uid: 0, gid: 0 };
    changeFilePermission(n, 5, true);
    expect(n).toMatchObject({ mode: 0o777, gid: 5 });
  });
});

describe('a pod run by the harness', () => {
  let kubelet: Kubelet;
  const source = new MemorySource();
  source.putSecret('ns', 'creds', { a: 'secret-a', b: 'secret-b' });
  source.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' }, data: { 'x.conf': 'X' } });
  source.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'ns' }, spec: { ports: [{ name: 'pg', port: 5432 }] } });
  source.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'store', namespace: 'other' }, spec: { ports: [{ port: 8333 }] } });

  /** A kubelet whose pods get service-account tokens (no server behind them: the token is only written). */
  let withApi: Kubelet;
  source.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'ns' }, data: { 'ca.crt': 'CA' } });

  beforeAll(() => {
    kubelet = new Kubelet({ source, dir: mkdtempSync(join(tmpdir(), 'kubelet-harness-')), maxGraceMs: 2000 });
    withApi = new Kubelet({ source, dir: mkdtempSync(join(tmpdir(), 'kubelet-harness-')), maxGraceMs: 2000, apiServer: { host: '127.0.0.1', port: 6443, token: async () => 'token' } });
  });
  afterAll(async () => {
    await kubelet?.stop();
    await withApi?.stop();
  });

  const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
  function deployment(name: string, spec: any): any {
    return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'ns' }, spec: { template: { metadata: { labels: { app: name } }, spec: { automountServiceAccountToken: false, restartPolicy: 'Never', ...spec } } } };
  }
  async function runToEnd(w: any, opts: { apiServer?: boolean } = {}): Promise<{ pod: RunningPod; out: string; code: number | null }> {
    const pod = (opts.apiServer ? withApi : kubelet).run(w);
    const exit = await pod.waitForExit('main', TIMEOUT / 2);
    return { pod, out: pod.log('main'), code: exit.code };
  }

  test('identity, capabilities, read-only root, env, volumes at their paths with the kubelet\'s modes', async () => {
    const script = [
      'echo "id $(id -u) $(id -g) $(id -G)"',
      'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status',
      'echo "pid $$$$"', // `$$` is Kubernetes' escaped `$`
      'echo "hostname $(hostname)"',
      'touch /probe 2>&1 | sed "s/^/root: /"',
      'touch /scratch/ok && echo "scratch writable"',
      'touch /mem/ok && echo "mem writable"',
      'for f in /etc/creds/dir/a.txt /etc/creds/b /etc/all/a /etc/single.conf; do stat -L -c "file %n %a %u %g" $f; cat $f; echo; done',
      'stat -c "dir %n %a %u %g" /scratch /mem',
      'touch /etc/creds/new 2>&1 | sed "s/^/ro volume: /"',
      'echo "env MSG=$MSG"', 'echo "env ESC=$ESC"', 'echo "env PASS=$PASS"', 'echo "env OPT=${OPT-unset}"', 'echo "env NAME=$POD"',
      'echo "env DB=$DB_SERVICE_HOST:$DB_SERVICE_PORT_PG $DB_PORT"', 'echo "env HOME=$HOME"',
      'getent hosts db store.other.svc.cluster.local db.ns.svc | sort',
    ].join('\n');
    const { out, code, pod } = await runToEnd(deployment('facts', {
      securityContext: { runAsUser: 1234, runAsGroup: 2345, fsGroup: 3456, supplementalGroups: [4567], runAsNonRoot: true },
      containers: [{
        name: 'main',
        image: IMAGE,
        command: ['/bin/sh', '-c', script, '$(MSG)'],
        securityContext: restricted,
        env: [
          { name: 'GREETING', value: 'hello' },
          { name: 'MSG', value: '$(GREETING), $(UNDEFINED) $(DB_SERVICE_PORT)' },
          { name: 'ESC', value: '$$(GREETING)' },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'a' } } },
          { name: 'OPT', valueFrom: { secretKeyRef: { name: 'creds', key: 'missing', optional: true } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        volumeMounts: [
          { name: 'creds', mountPath: '/etc/creds' },
          { name: 'all', mountPath: '/etc/all', readOnly: true },
          { name: 'cm', mountPath: '/etc/single.conf', subPath: 'x.conf' },
          { name: 'scratch', mountPath: '/scratch' },
          { name: 'mem', mountPath: '/mem' },
        ],
      }],
      volumes: [
        { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o440, items: [{ key: 'a', path: 'dir/a.txt', mode: 0o400 }, { key: 'b', path: 'b' }] } },
        { name: 'all', secret: { secretName: 'creds' } },
        { name: 'cm', configMap: { name: 'cm' } },
        { name: 'scratch', emptyDir: { sizeLimit: '1Mi' } },
        { name: 'mem', emptyDir: { medium: 'Memory' } },
      ],
    }));
    expect({ code, out }).toEqual({ code: 0, out: expect.any(String) });
    const lines = out.split('\n');
    expect(lines).toContain('id 1234 2345 2345 3456 4567');
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(lines).toContain(`${cap}:\t0000000000000000`);
    expect(lines).toContain('NoNewPrivs:\t1');
    expect(lines).toContain('pid 1');
    expect(lines).toContain(`hostname ${pod.name}`);
    expect(out).toMatch(/root: touch: cannot touch '\/probe': Read-only file system/);
    expect(lines).toEqual(expect.arrayContaining(['scratch writable', 'mem writable']));
    // Files: mode |= 0440 and group fsGroup (SetVolumeOwnership on a read-only volume); root owner.
    expect(lines).toContain('file /etc/creds/dir/a.txt 440 0 3456');
    expect(lines).toContain('file /etc/creds/b 440 0 3456');
    expect(lines).toContain('file /etc/all/a 644 0 3456');
    expect(lines).toContain('file /etc/single.conf 644 0 3456');
    expect(lines).toEqual(expect.arrayContaining(['secret-a', 'secret-b', 'X']));
    expect(lines).toContain('dir /scratch 2777 0 3456');
    expect(lines).toContain('dir /mem 3777 0 3456');
    expect(out).toMatch(/ro volume: touch: cannot touch '\/etc\/creds\/new': Read-only file system/);
    expect(lines).toContain('env MSG=hello, $(UNDEFINED) 5432');
    expect(lines).toContain('env ESC=$(GREETING)');
    expect(lines).toContain('env PASS=secret-a');
    expect(lines).toContain('env OPT=unset');
    expect(lines).toContain(`env NAME=${pod.name}`);
    expect(lines).toContain('env DB=127.0.0.1:5432 tcp://127.0.0.1:5432');
    expect(lines).toContain('env HOME=/'); // uid 1234 is not in the image's /etc/passwd: runc's default
    expect(out).toMatch(/127\.0\.0\.1\s+db\.ns\.svc\.cluster\.local db\.ns\.svc db\.ns db/);
    expect(out).toMatch(/127\.0\.0\.1\s+store\.other\.svc\.cluster\.local/);
  }, TIMEOUT);

  test('without fsGroup a 0440 Secret is root:root and unreadable by the uid — and the static check says so', async () => {
    const w = deployment('nofsgroup', {
      securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true },
      containers: [{
        name: 'main',
        image: IMAGE,
        securityContext: restricted,
        command: ['/bin/sh', '-c', 'stat -L -c "%a %u %g" /etc/c/a; cat /etc/c/a'],
        volumeMounts: [{ name: 'c', mountPath: '/etc/c', readOnly: true }],
      }],
      volumes: [{ name: 'c', secret: { secretName: 'creds', defaultMode: 0o440, items: [{ key: 'a', path: 'a' }] } }],
    });
    const { out, code, pod } = await runToEnd(w);
    expect(code).not.toBe(0);
    expect(out).toContain('440 0 0\n');
    expect(out).toContain('cat: /etc/c/a: Permission denied');
    const findings = await checkPod(pod.admitted!, source, 'test');
    expect(findings.map((f) => `${f.container} ${f.path}: ${f.problem}`)).toEqual(['main /etc/c/a: not readable (mode 0440, owner 0:0)']);
  }, TIMEOUT);

  test('the static rules agree with the kernel on every file of every volume', async () => {
    // One pod, several identities: for each, the kernel's answer (can `cat` read it?) must equal `permits` after `resolve`.
    const volumes = [
      { name: 's440', secret: { secretName: 'creds', defaultMode: 0o440 } },
      { name: 's400', secret: { secretName: 'creds', defaultMode: 0o400, items: [{ key: 'a', path: 'x/a' }] } },
      { name: 'c600', configMap: { name: 'cm', defaultMode: 0o600 } },
    ];
    const files = ['s440/a', 's440/b', 's400/x/a', 'c600/x.conf'];
    for (const sc of [{ runAsUser: 1000 }, { runAsUser: 1000, fsGroup: 2000 }, { runAsUser: 1000, runAsGroup: 0 }]) {
      const w = deployment(`agree-${Object.values(sc).join('-')}`, {
        securityContext: { runAsNonRoot: true, ...sc },
        containers: [{
          name: 'main',
          image: IMAGE,
          securityContext: restricted,
          command: ['/bin/sh', '-c', files.map((f) => `if cat /v/${f} >/dev/null 2>&1; then echo "${f} yes"; else echo "${f} no"; fi`).join('\n')],
          volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/v/${v.name}` })),
        }],
        volumes,
      });
      const { out, code, pod } = await runToEnd(w);
      expect(code).toBe(0);
      const findings = new Set((await checkPod(pod.admitted!, source, 'test')).map((f) => f.path.replace(/^\/v\//, '')));
      const kernel = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')));
      expect(Object.fromEntries(files.map((f) => [f, findings.has(f) ? 'no' : 'yes']))).toEqual(kernel);
    }
  }, 3 * TIMEOUT);

  test('the host is never changed: paths through the image\'s symlinks (/var/run -> /run) stay in the container\'s root', async () => {
    const before = statSync('/run');
    const pgBefore = existsSync('/run/postgresql') ? statSync('/run/postgresql').ctimeMs : undefined;
    const { code } = await runToEnd(deployment('host-safe', {
      securityContext: { runAsUser: 1000, runAsNonRoot: true },
      automountServiceAccountToken: true,
      containers: [{ name: 'main', image: IMAGE, securityContext: restricted, command: ['/bin/sh', '-c', 'test -d /var/run/postgresql && test -d /var/run/secrets/kubernetes.io/serviceaccount'] }],
    }), { apiServer: true });
    expect(code).toBe(0);
    // The image stand-in creates /var/run/postgresql (3777) and admission mounts the token under /var/run/secrets: neither reaches the host's /run.
    expect(existsSync('/run/secrets/kubernetes.io/serviceaccount/token')).toBe(false);
    expect(statSync('/run').mtimeMs).toBe(before.mtimeMs);
    expect(existsSync('/run/postgresql') ? statSync('/run/postgresql').ctimeMs : undefined).toBe(pgBefore);
  }, TIMEOUT);

  test('a missing Secret holds the container in CreateContainerConfigError until it exists', async () => {
    const pod = kubelet.run(deployment('waits', {
      securityContext: { runAsUser: 1000, runAsNonRoot: true },
      containers: [{ name: 'main', image: IMAGE, securityContext: restricted, command: ['/bin/sh', '-c', 'echo "got $V"'], env: [{ name: 'V', valueFrom: { secretKeyRef: { name: 'later', key: 'v' } } }] }],
    }));
    await new Promise((r) => setTimeout(r, 3000));
    expect(pod.status.get('main')).toMatchObject({ state: 'waiting', reason: 'CreateContainerConfigError', message: 'secret "later" not found' });
    source.putSecret('ns', 'later', { v: 'now' });
    expect(await pod.waitForExit('main', TIMEOUT)).toEqual({ code: 0, signal: null });
    expect(pod.log('main')).toBe('got now\n');
  }, TIMEOUT);
});
