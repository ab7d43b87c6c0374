/**
 * The control plane's certificates, made with the system's `openssl`: one CA, the API server's
 * serving certificate (loopback and the in-cluster names), client certificates for the admin
 * (group `system:masters`), the controller manager and the scheduler (their built-in identities,
 * which the default RBAC bootstrap policy binds), and the service-account signing key pair.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';

/** Paths of the files {@link makePki} writes. */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly saKey: string;
  readonly saPub: string;
  /** Client certificate and key per identity name. */
  readonly clients: Readonly<Record<string, { cert: string; key: string }>>;
}

/** A client identity: the certificate's CN (user name) and O (groups). */
export interface ClientIdentity {
  readonly user: string;
  readonly groups?: readonly string[];
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function subject(id: ClientIdentity): string {
  return (id.groups ?? []).map((g) => `/O=${g}`).join('') + `/CN=${id.user}`;
}

/** Writes a fresh PKI under `dir`. */
export function makePki(dir: string, clients: Readonly<Record<string, ClientIdentity>>): Pki {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mlplatform-test-ca',
    '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  writeFileSync(p('server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,' +
      'DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1',
    '',
  ].join('\n'));
  writeFileSync(p('client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const sign = (name: string, subj: string, ext: string) => {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', ext, '-out', `${name}.crt`], dir);
  };
  sign('server', '/CN=kube-apiserver', 'server.ext');
  const out: Record<string, { cert: string; key: string }> = {};
  for (const [name, id] of Object.entries(clients)) {
    sign(`client-${name}`, subject(id), 'client.ext');
    out[name] = { cert: p(`client-${name}.crt`), key: p(`client-${name}.key`) };
  }
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    clients: out,
  };
}

/** A kubeconfig for one client identity. */
export function writeKubeconfig(path: string, server: string, caCert: string, client: { cert: string; key: string }): string {
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { 'server': server, 'certificate-authority': caCert } }],
    users: [{ name: 'user', user: { 'client-certificate': client.cert, 'client-key': client.key } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'user' } }],
    ['current-context']: 'test',
  }, null, 2));
  return path;
}
