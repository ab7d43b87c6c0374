import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { schemasDir } from '../support/schemas';

const REPO = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(REPO, 'scripts', 'fetch-schemas.js');

interface Entry {
  path: string;
  url: string | null;
  sha256: string;
  note?: string;
  repository: string;
  commit: string;
}
const MANIFEST = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'manifest.json'), 'utf8')) as { files: Entry[] };
// small files, one of them a KEDA kustomize build that has no upstream URL
const SUBSET = ['katib/swagger.json', 'keda/keda.sh_scaledobjects.yaml', 'karpenter/karpenter.sh_nodepools.yaml'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env: childEnv }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let tmp: string;
let server: http.Server;
let baseUrl: string;
let served: string;
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const file = path.join(served, decodeURIComponent(req.url ?? '/'));
    if (!file.startsWith(served + path.sep) || !fs.existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-fetch-schemas-'));
  served = schemasDir();
  requests.length = 0;
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function subsetManifest(paths = SUBSET): string {
  const file = path.join(tmp, 'manifest.json');
  fs.writeFileSync(file, JSON.stringify({ files: MANIFEST.files.filter((f) => paths.includes(f.path)) }));
  return file;
}

test('the manifest pins every schema file (and nothing else) by sha256 and commit', async () => {
  const paths = MANIFEST.files.map((f) => f.path).sort();
  const onDisk: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else onDisk.push(path.relative(schemasDir(), path.join(d, e.name)));
    }
  };
  walk(schemasDir());
  expect(paths).toEqual(onDisk.filter((f) => f !== 'SOURCES.md').sort());
  for (const f of MANIFEST.files) {
    expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    if (f.url === null) expect(f.note).toMatch(/Not downloadable byte-identical/);
    else expect(f.url.startsWith(`https://raw.githubusercontent.com/${f.repository}/${f.commit}/`)).toBe(true);
    expect(f.commit).toMatch(/^[0-9a-f]{40}$/);
  }
  expect(MANIFEST.files.filter((f) => f.url === null).map((f) => f.path)).toEqual(['keda/keda.sh_scaledobjects.yaml', 'keda/keda.sh_scaledjobs.yaml']);
  const check = await run(['--check', schemasDir()]);
  expect(check).toMatchObject({ code: 0, stdout: expect.stringContaining('48/48 files verified') });
});

test('downloads from a mirror (base-URL override), verifies sha256, then skips files already present', async () => {
  const dest = path.join(tmp, 'cache');
  const first = await run(['--manifest', subsetManifest(), '--dest', dest], { MLPLATFORM_SCHEMAS_BASE_URL: baseUrl });
  expect(first.stderr).toBe('');
  expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining('0 already present, 0 copied, 3 downloaded, 0 failed') });
  // (Buffer.equals: jest's deep equality walks buffers byte by byte, slowly)
  for (const p of SUBSET) expect(fs.readFileSync(path.join(dest, p)).equals(fs.readFileSync(path.join(schemasDir(), p)))).toBe(true);
  expect(requests.sort()).toEqual(SUBSET.map((p) => `/${p}`).sort());
  requests.length = 0;
  const second = await run(['--manifest', subsetManifest(), '--dest', dest, '--base-url', baseUrl]);
  expect(second).toMatchObject({ code: 0, stdout: expect.stringContaining('3 already present') });
  expect(requests).toEqual([]);
});

test('a corrupted download fails loudly with a sha256 message and is not written', async () => {
  served = path.join(tmp, 'mirror');
  for (const p of SUBSET) {
    fs.mkdirSync(path.dirname(path.join(served, p)), { recursive: true });
    fs.copyFileSync(path.join(schemasDir(), p), path.join(served, p));
  }
  fs.appendFileSync(path.join(served, 'katib/swagger.json'), ' ');
  const dest = path.join(tmp, 'cache');
  const r = await run(['--manifest', subsetManifest(), '--dest', dest], { MLPLATFORM_SCHEMAS_BASE_URL: baseUrl });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/katib\/swagger\.json: sha256 mismatch \(expected [0-9a-f]{64}, got [0-9a-f]{64}/);
  expect(r.stdout).toContain('2 downloaded, 1 failed');
  expect(fs.existsSync(path.join(dest, 'katib/swagger.json'))).toBe(false);
});

test('an HTTP error fails loudly', async () => {
  served = path.join(tmp, 'nothing');
  fs.mkdirSync(served);
  const r = await run(['--manifest', subsetManifest(['katib/swagger.json']), '--dest', path.join(tmp, 'cache'), '--base-url', baseUrl]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`HTTP 404 for ${baseUrl}/katib/swagger.json`);
});

test('a kustomize-built file has no upstream URL: the script says so instead of downloading something else', async () => {
  const r = await run(['--manifest', subsetManifest(['keda/keda.sh_scaledobjects.yaml']), '--dest', path.join(tmp, 'cache')], { MLPLATFORM_SCHEMAS_BASE_URL: undefined });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/keda\/keda\.sh_scaledobjects\.yaml has no download URL: Not downloadable byte-identical.*--from DIR/);
});

test('--from copies a local folder (verifying sha256); --check spots a changed file', async () => {
  const dest = path.join(tmp, 'cache');
  const r = await run(['--manifest', subsetManifest(), '--dest', dest, '--from', schemasDir()]);
  expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('3 copied') });
  expect(await run(['--manifest', subsetManifest(), '--check', dest])).toMatchObject({ code: 0, stdout: expect.stringContaining('3/3 files verified') });
  fs.appendFileSync(path.join(dest, 'karpenter/karpenter.sh_nodepools.yaml'), '#');
  const bad = await run(['--manifest', subsetManifest(), '--check', dest]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/karpenter\/karpenter\.sh_nodepools\.yaml: sha256 mismatch/);
});
