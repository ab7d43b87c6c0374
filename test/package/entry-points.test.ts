import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

// A preload that makes every @pulumi/* package unresolvable, as on a machine where only cdk8s is installed.
const BLOCK_PULUMI = `
const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request.startsWith('@pulumi/')) { const e = new Error("Cannot find module '" + request + "'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
  return resolve.call(this, request, ...rest);
};`;

function runNode(script: string): string {
  const preload = path.join(root, 'lib', `.block-pulumi-${process.pid}.js`);
  fs.writeFileSync(preload, BLOCK_PULUMI);
  try {
    return execFileSync(process.execPath, ['-r', preload, '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e: any) {
    return `EXIT ${e.status}\n${e.stdout}${e.stderr}`;
  } finally {
    fs.rmSync(preload, { force: true });
  }
}

describe('package entry points', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'lib/cdk8s/index.js'))) {
      throw new Error('lib/ is not built: run `npm run compile` (npm test does it first)');
    }
  });

  test('exports map the four entry points to lib/ with typings', () => {
    expect(pkg.exports['.']).toEqual({ types: './lib/core/index.d.ts', default: './lib/core/index.js' });
    expect(pkg.exports['./cdk8s']).toEqual({ types: './lib/cdk8s/index.d.ts', default: './lib/cdk8s/index.js' });
    expect(pkg.exports['./pulumi']).toEqual({ types: './lib/pulumi/index.d.ts', default: './lib/pulumi/index.js' });
    expect(pkg.exports['./testing']).toEqual({ types: './lib/testing/index.d.ts', default: './lib/testing/index.js' });
    expect(pkg.typesVersions['*']).toEqual({ cdk8s: ['lib/cdk8s/index.d.ts'], pulumi: ['lib/pulumi/index.d.ts'], testing: ['lib/testing/index.d.ts'] });
  });

  test('peer dependencies: real-world ranges, Pulumi ones optional', () => {
    expect(pkg.peerDependencies).toEqual({
      'cdk8s': '^2.68.0',
      'cdk8s-plus-27': '^2.9.0',
      'constructs': '^10.3.0',
      '@pulumi/pulumi': '^3.142.0',
      '@pulumi/kubernetes': '^4.0.0',
      '@pulumi/aws': '^7.0.0',
    });
    expect(pkg.peerDependenciesMeta).toEqual({
      '@pulumi/pulumi': { optional: true }, '@pulumi/kubernetes': { optional: true }, '@pulumi/aws': { optional: true },
    });
  });

  test('mlplatform/cdk8s loads when no @pulumi/* package is resolvable', () => {
    const out = runNode("const m = require('mlplatform/cdk8s'); const core = require('mlplatform'); console.log(Object.keys(m).length > 0, typeof core.ValidationError);");
    expect(out.trim()).toBe('true function');
  });

  test('the preload really hides @pulumi/*: mlplatform/pulumi fails to load under it', () => {
    const out = runNode("require('mlplatform/pulumi')");
    expect(out).toMatch(/^EXIT 1/);
    expect(out).toContain("Cannot find module '@pulumi/pulumi'");
  });
});
