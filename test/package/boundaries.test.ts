import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// DESIGN.md §1: src/core imports nothing of cdk8s or Pulumi; src/cdk8s imports nothing of Pulumi.
// These tests run the project's real eslint configuration on probe files placed in each folder.

const root = path.resolve(__dirname, '../..');

interface LintMessage { ruleId: string | null; message: string; line: number }

function lint(folder: string, source: string): { code: number; messages: LintMessage[] } {
  const file = path.join(root, 'src', folder, `__lint_probe_${process.pid}.ts`);
  fs.writeFileSync(file, source);
  try {
    const output = execFileSync(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', file], {
      cwd: root, env: { ...process.env, ESLINT_USE_FLAT_CONFIG: 'false', NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    return { code: 0, messages: JSON.parse(output)[0].messages };
  } catch (e: any) {
    if (e.status !== 1) throw new Error(`eslint failed (${e.status}): ${e.stderr}`);
    return { code: e.status, messages: JSON.parse(e.stdout.toString())[0].messages };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe('import boundaries (eslint)', () => {
  test('src/core may not import cdk8s, constructs, Pulumi or the other entry points', () => {
    const r = lint('core', [
      "import { App } from 'cdk8s';",
      "import { Construct } from 'constructs';",
      "import * as pulumi from '@pulumi/pulumi';",
      "import * as aws from '@pulumi/aws';",
      "import { toKplusCpu } from '../cdk8s/convert';",
      'export const probe = [App, Construct, pulumi, aws, toKplusCpu];',
      '',
    ].join('\n'));
    expect(r.code).toBe(1);
    const restricted = r.messages.filter((m) => m.ruleId === 'no-restricted-imports');
    expect([...new Set(restricted.map((m) => m.line))]).toEqual([1, 2, 3, 4, 5]);
    expect(restricted[0].message).toContain('src/core is the pure model: it may not import cdk8s, constructs or Pulumi');
    expect(restricted.filter((m) => m.line === 5).map((m) => m.message).join(' ')).toContain('src/core may not import the cdk8s or pulumi entry points');
  }, 60_000);

  test('src/cdk8s may not import Pulumi', () => {
    const r = lint('cdk8s', "import * as k8s from '@pulumi/kubernetes';\nexport const probe = [k8s];\n");
    expect(r.code).toBe(1);
    expect(r.messages.map((m) => [m.ruleId, m.line])).toEqual([['no-restricted-imports', 1]]);
    expect(r.messages[0].message).toContain('mlplatform/cdk8s must load without any @pulumi/* package');
  }, 60_000);

  test('src/pulumi may import everything', () => {
    const r = lint('pulumi', "import * as pulumi from '@pulumi/pulumi';\nimport { App } from 'cdk8s';\nimport { Size } from '../core';\nexport const probe = [pulumi, App, Size];\n");
    expect(r.messages).toEqual([]);
    expect(r.code).toBe(0);
  }, 60_000);
});
