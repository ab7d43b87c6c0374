#!/usr/bin/env node
// Fetches the pinned upstream schema files listed in schemas/manifest.json (the layout of
// shared/crds) into .schemas-cache/, and checks the sha256 of every file. Node built-ins only.
//
//   node scripts/fetch-schemas.js              download what is missing or wrong (npm run schemas)
//   node scripts/fetch-schemas.js --from DIR   copy from a local folder (e.g. a shared/crds checkout) instead
//   node scripts/fetch-schemas.js --check DIR  only verify DIR against the manifest; changes nothing
// Options: --dest DIR (default: <repo>/.schemas-cache), --manifest FILE (default: schemas/manifest.json),
//          --base-url URL (or $MLPLATFORM_SCHEMAS_BASE_URL): download <URL>/<path> from a mirror of the
//          schemas folder instead of each file's upstream URL.
// A file already present with the right sha256 is not fetched again. Any HTTP error, missing file or
// sha256 mismatch is reported (all of them, then exit status 1); a file is written only when it matches.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const CONCURRENCY = 6;
const TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

function usage(message) {
  if (message) process.stderr.write(`fetch-schemas: ${message}\n`);
  process.stderr.write('usage: node scripts/fetch-schemas.js [--from DIR | --check DIR] [--dest DIR] [--manifest FILE] [--base-url URL]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    dest: path.join(REPO_ROOT, '.schemas-cache'),
    manifest: path.join(REPO_ROOT, 'schemas', 'manifest.json'),
    baseUrl: process.env.MLPLATFORM_SCHEMAS_BASE_URL || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--from') opts.from = path.resolve(value());
    else if (a === '--check') opts.check = path.resolve(value());
    else if (a === '--dest') opts.dest = path.resolve(value());
    else if (a === '--manifest') opts.manifest = path.resolve(value());
    else if (a === '--base-url') opts.baseUrl = value();
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (opts.from && opts.check) usage('--from and --check exclude each other');
  return opts;
}

function loadManifest(file) {
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(manifest.files)) throw new Error(`${file}: no "files" array`);
  for (const f of manifest.files) {
    if (typeof f.path !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256 || '')) throw new Error(`${file}: bad entry ${JSON.stringify(f)}`);
    if (path.isAbsolute(f.path) || f.path.split(/[\\/]/).includes('..')) throw new Error(`${file}: path must stay inside the folder: ${f.path}`);
  }
  return manifest.files;
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

function fileSha256(file) {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

// Keep-alive agents, destroyed when done so that idle sockets do not hold the process open.
const AGENTS = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

function get(url, redirects = 0) {
  return new Promise((resolve, reject) => {
    const protocol = url.slice(0, url.indexOf(':') + 1);
    const client = protocol === 'https:' ? https : protocol === 'http:' ? http : undefined;
    if (!client) return reject(new Error(`unsupported URL ${url}`));
    const req = client.get(url, { agent: AGENTS[protocol], headers: { 'user-agent': 'mlplatform-fetch-schemas' } }, (res) => {
      const status = res.statusCode || 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new Error(`too many redirects for ${url}`));
        return resolve(get(new URL(res.headers.location, url).href, redirects + 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${status} for ${url}`));
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`timeout after ${TIMEOUT_MS / 1000} s for ${url}`)));
    req.on('error', (e) => reject(new Error(`${e.message} (${url})`)));
  });
}

function writeAtomically(file, buf) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, file);
}

// Where to get one entry from: a local file, or a URL; throws when there is no source.
function sourceOf(entry, opts) {
  if (opts.from) return { file: path.join(opts.from, entry.path) };
  if (opts.baseUrl) return { url: `${opts.baseUrl.replace(/\/+$/, '')}/${entry.path.split('/').map(encodeURIComponent).join('/')}` };
  if (entry.url) return { url: entry.url };
  throw new Error(`${entry.path} has no download URL: ${entry.note || 'see the manifest'} Run with --from DIR (a folder holding it).`);
}

async function fetchOne(entry, opts) {
  const target = path.join(opts.dest, entry.path);
  if (fileSha256(target) === entry.sha256) return 'present';
  const src = sourceOf(entry, opts);
  let buf;
  if (src.file) {
    if (!fs.existsSync(src.file)) throw new Error(`${entry.path}: not found in ${opts.from}`);
    buf = fs.readFileSync(src.file);
  } else {
    buf = await get(src.url);
  }
  const actual = sha256(buf);
  if (actual !== entry.sha256) {
    throw new Error(`${entry.path}: sha256 mismatch (expected ${entry.sha256}, got ${actual}, ${buf.length} bytes from ${src.file || src.url}); not written`);
  }
  writeAtomically(target, buf);
  return src.file ? 'copied' : 'downloaded';
}

function check(files, dir) {
  const problems = [];
  for (const entry of files) {
    const actual = fileSha256(path.join(dir, entry.path));
    if (actual === undefined) problems.push(`${entry.path}: missing`);
    else if (actual !== entry.sha256) problems.push(`${entry.path}: sha256 mismatch (expected ${entry.sha256}, got ${actual})`);
  }
  return problems;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const files = loadManifest(opts.manifest);
  if (opts.check) {
    const problems = check(files, opts.check);
    for (const p of problems) process.stderr.write(`fetch-schemas: ${p}\n`);
    process.stdout.write(`${files.length - problems.length}/${files.length} files verified in ${opts.check}\n`);
    return problems.length ? 1 : 0;
  }
  const counts = { present: 0, copied: 0, downloaded: 0 };
  const problems = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      try {
        counts[await fetchOne(files[index], opts)]++;
      } catch (e) {
        problems.push({ index, message: e.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
  for (const agent of Object.values(AGENTS)) agent.destroy();
  problems.sort((a, b) => a.index - b.index);
  for (const p of problems) process.stderr.write(`fetch-schemas: ${p.message}\n`);
  process.stdout.write(`${opts.dest}: ${counts.present} already present, ${counts.copied} copied, ${counts.downloaded} downloaded, ${problems.length} failed (of ${files.length})\n`);
  return problems.length ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`fetch-schemas: ${e.message}\n`);
  process.exitCode = 2;
});
