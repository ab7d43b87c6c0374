// The programs the pods run are real files in src/programs/, read by one loader: every program a renderer puts in a
// ConfigMap is one of them, byte for byte, and every file there is a program some renderer uses.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s';
import { program, PROGRAM_NAMES, PROGRAMS_DIR, ProgramName } from '../../src/cdk8s/private/programs';
import { Exposure, TrackingAuth } from '../../src/core';
import * as serializer from '../support/program-serializer';
import { findAll, K8sObject, synthChart } from '../support/synth';

const SRC_PROGRAMS = path.resolve(__dirname, '../../src/programs');

test('from the sources, the loader reads src/programs/', () => {
  expect(PROGRAMS_DIR).toBe(SRC_PROGRAMS);
});

test('src/programs/ holds exactly the named programs, and the loader gives each file\'s text and SHA-256', () => {
  const files = fs.readdirSync(SRC_PROGRAMS).filter((f) => /\.(py|sh)$/.test(f)).sort();
  expect(files).toEqual([...PROGRAM_NAMES].sort());
  for (const name of PROGRAM_NAMES) {
    const bytes = fs.readFileSync(path.join(SRC_PROGRAMS, name));
    const p = program(name);
    expect(p.name).toBe(name);
    expect(Buffer.from(p.text, 'utf8').equals(bytes)).toBe(true);
    expect(p.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(program(name)).toBe(p); // read once per process
  }
});

test('a program that is not there fails with its path and the build step named', () => {
  expect(() => program('missing.py' as ProgramName)).toThrow(`mlplatform: cannot read the program missing.py (${path.join(SRC_PROGRAMS, 'missing.py')}): ENOENT`);
  expect(() => program('missing.py' as ProgramName)).toThrow('The build copies src/programs/ to lib/programs/ (npm run compile).');
});

test('the renderers put every program, and only the loader\'s text, into the example platform\'s ConfigMaps and an OIDC platform\'s (or inline: `python -c`)', () => {
  const oidc = synthChart((chart) => new MlPlatform(chart, 'ml', {
    exposure: Exposure.gateway({ host: 'ml.example.com' }),
    tracking: { auth: TrackingAuth.oidc({ issuerUrl: 'https://login.example.com', clientId: 'mlflow', clientSecret: { name: 'o', key: 'c' }, cookieSecret: { name: 'o', key: 'k' }, emailDomains: ['example.com'] }) },
  })).objects;
  const objects = [...buildExample(Testing.app()).chart.toJson() as K8sObject[], ...oidc];
  const used = new Map<string, string[]>();
  for (const cm of findAll(objects, 'ConfigMap')) {
    for (const [key, value] of Object.entries((cm.data ?? {}) as Record<string, string>)) {
      if (!/\.(py|sh)$/.test(key)) continue;
      expect([key, value]).toEqual([key, program(key as ProgramName).text]);
      used.set(key, [...(used.get(key) ?? []), cm.metadata.name!]);
    }
  }
  // A program passed inline to its container (`python -c <text>`: the endpoints' fetch step) counts too.
  for (const d of findAll(objects, 'Deployment')) {
    for (const c of [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers]) {
      const command: string[] = c.command ?? [];
      const at = command.indexOf('-c');
      const name = at >= 0 ? PROGRAM_NAMES.find((n) => program(n).text === command[at + 1]) : undefined;
      if (name) used.set(name, [...(used.get(name) ?? []), d.metadata.name!]);
    }
  }
  expect([...used.keys()].sort()).toEqual([...PROGRAM_NAMES].sort());
});

test('snapshots show a program as `<program NAME sha256:HEX>`, and any other string as it is', () => {
  for (const name of PROGRAM_NAMES) {
    const p = program(name);
    expect(serializer.test(p.text)).toBe(true);
    expect(serializer.serialize(p.text)).toBe(`<program ${name} sha256:${p.sha256}>`);
    expect(serializer.test(`${p.text} `)).toBe(false);
    expect(serializer.test(p.text.slice(1))).toBe(false);
  }
  expect(serializer.test(undefined)).toBe(false);
  expect(serializer.test(['#!/bin/sh'])).toBe(false);
});
