import { javascript, typescript } from 'projen';

/**
 * The single source of truth for package.json, tsconfig*.json, eslint and jest.
 * Edit this file, then run `npx projen` to regenerate.
 */

// Versions that install and run on Node 20 (newer @pulumi/pulumi and kubernetes-models need Node 22,
// and npm silently installs older releases otherwise): pinned exactly for our own build.
const DEV_PINS = {
  'cdk8s': '2.70.106',
  'cdk8s-plus-27': '2.9.5',
  'constructs': '10.4.2',
  '@pulumi/pulumi': '3.248.0',
  '@pulumi/kubernetes': '4.34.2',
  '@pulumi/aws': '7.48.0',
};

// Ranges real users have today (DESIGN.md §1). The Pulumi ones are optional.
const PEER_RANGES = {
  'cdk8s': '^2.68.0',
  'cdk8s-plus-27': '^2.9.0',
  'constructs': '^10.3.0',
  '@pulumi/pulumi': '^3.142.0',
  '@pulumi/kubernetes': '^4.0.0',
  '@pulumi/aws': '^7.0.0',
};
const OPTIONAL_PEERS = ['@pulumi/pulumi', '@pulumi/kubernetes', '@pulumi/aws'];

const project = new typescript.TypeScriptProject({
  name: 'mlplatform',
  description:
    'A machine-learning platform as code: MlPlatform, TrainingPipeline, TuningSweep and ModelEndpoint for cdk8s and Pulumi.',
  license: 'Apache-2.0',
  copyrightOwner: 'mlplatform authors',
  authorName: 'mlplatform authors',
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,
  minNodeVersion: '20.0.0',
  typescriptVersion: '5.9.3',
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  sampleCode: false,
  prettier: false,
  docgen: false,
  entrypoint: 'lib/core/index.js',
  entrypointTypes: 'lib/core/index.d.ts',
  peerDependencyOptions: { pinnedDevDependency: false },
  peerDeps: Object.entries(PEER_RANGES).map(([n, r]) => `${n}@${r}`),
  // The strict validator of `mlplatform/testing` needs these at run time.
  deps: ['yaml@^2.8.0', '@cfworker/json-schema@4.1.6', 'js-yaml@4.3.2'],
  bundledDeps: [],
  devDeps: [
    ...Object.entries(DEV_PINS).map(([n, v]) => `${n}@${v}`),
    '@types/node@^20',
    'ts-node@^10.9.2',
    'fast-check@^4.3.0',
    'typedoc@0.28.14',
    'typedoc-plugin-markdown@4.9.0',
    '@types/js-yaml@^4',
    // Parses the report's Mermaid diagram in tests (mermaid 12 and jsdom 27 need newer Node than 20).
    'mermaid@11.17.2',
    'jsdom@26.1.0',
  ],
  jestOptions: {
    jestVersion: '^29',
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
      coverageProvider: 'v8',
      collectCoverage: false,
      // A program's text (src/programs/) shows in snapshots as `<program NAME sha256:HEX>`.
      snapshotSerializers: ['<rootDir>/test/support/program-serializer.ts'],
      moduleNameMapper: {
        '^mlplatform$': '<rootDir>/src/core',
        '^mlplatform/(cdk8s|pulumi|testing)$': '<rootDir>/src/$1',
      },
    },
    extraCliOptions: ['--silent'],
  },
  tsconfig: {
    compilerOptions: {
      // Source maps beside the JavaScript (lib/**/*.js.map, TypeScript sources inside), not inlined in it: inlined, they
      // were 2.5 MB of the package's 3.1 MB of JavaScript, held in the heap of every process that imports the library
      // (≈ 4 MB more heap, 3–6 MiB more RSS). A separate map is read only by a debugger or `node --enable-source-maps`.
      inlineSourceMap: false,
      sourceMap: true,
      inlineSources: true,
      lib: ['es2022'],
      target: 'ES2022',
      isolatedModules: true,
      esModuleInterop: true,
      skipLibCheck: true,
      resolveJsonModule: true,
    },
  },
  tsconfigDev: {
    compilerOptions: {
      baseUrl: '..',
      paths: {
        'mlplatform': ['src/core'],
        'mlplatform/*': ['src/*'],
      },
      lib: ['es2022'],
      target: 'ES2022',
      isolatedModules: true,
      esModuleInterop: true,
      skipLibCheck: true,
      resolveJsonModule: true,
    },
    include: ['../examples/**/*.ts', '../bench/**/*.ts'],
  },
  gitignore: ['/dist/', '/.schemas-cache/', '/.bench/'],
});

for (const p of ['/examples/', '/scripts/', '/bench/', '/docs/', '/.ci/', '/schemas/']) project.addPackageIgnore(p);

for (const name of OPTIONAL_PEERS) {
  project.package.addField('peerDependenciesMeta', {
    ...(project.package.manifest.peerDependenciesMeta ?? {}),
    [name]: { optional: true },
  });
}

// Three entry points (DESIGN.md §1) plus their typings for older TypeScript resolution.
project.package.addField('exports', {
  '.': { types: './lib/core/index.d.ts', default: './lib/core/index.js' },
  './cdk8s': { types: './lib/cdk8s/index.d.ts', default: './lib/cdk8s/index.js' },
  './pulumi': { types: './lib/pulumi/index.d.ts', default: './lib/pulumi/index.js' },
  './testing': { types: './lib/testing/index.d.ts', default: './lib/testing/index.js' },
  './package.json': './package.json',
});
project.package.addField('typesVersions', {
  '*': {
    cdk8s: ['lib/cdk8s/index.d.ts'],
    pulumi: ['lib/pulumi/index.d.ts'],
    testing: ['lib/testing/index.d.ts'],
  },
});

// Import boundaries of DESIGN.md §1: core is pure; cdk8s never reaches Pulumi.
const PULUMI = ['@pulumi/*', '@pulumi/**'];
const CDK8S = ['cdk8s', 'cdk8s/*', 'cdk8s-plus-27', 'cdk8s-plus-27/*', 'constructs', 'constructs/*'];
project.eslint?.addOverride({
  files: ['src/core/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        { group: [...CDK8S, ...PULUMI], message: 'src/core is the pure model: it may not import cdk8s, constructs or Pulumi (DESIGN.md §1).' },
        { group: ['../cdk8s', '../cdk8s/*', '../pulumi', '../pulumi/*', '**/cdk8s/**', '**/pulumi/**'], message: 'src/core may not import the cdk8s or pulumi entry points (DESIGN.md §1).' },
      ],
    }],
  },
});
project.eslint?.addOverride({
  files: ['src/cdk8s/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        { group: PULUMI, message: 'mlplatform/cdk8s must load without any @pulumi/* package (DESIGN.md §1).' },
        { group: ['../pulumi', '../pulumi/*', '../../pulumi', '../../pulumi/*'], message: 'mlplatform/cdk8s may not import the pulumi entry point (DESIGN.md §1).' },
      ],
    }],
  },
});

project.eslint?.addOverride({
  files: ['src/testing/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        { group: PULUMI, message: 'mlplatform/testing checks cdk8s templates: it may not import @pulumi/*.' },
        { group: ['../../test/*', '../../test/**', '**/test/support/**'], message: 'mlplatform/testing ships in the package: it may not import the test tree.' },
      ],
    }],
  },
});

// Node 20's V8 (11.3) gives every object built by a literal that *starts* with a spread and has more
// members (`{ ...base, name }`) a hidden class of its own once the spread's inline cache is warm: the
// clone's map belongs to no transition tree, so each added property makes a new map. Across the
// renderers and resolvers that was 5,600 maps for 100 workloads, with every reader of those objects
// megamorphic (`npm run bench:instructions`: 11 % of the synthesis's instructions, 17 % of its
// instruction-cache misses). `Object.assign({}, base, { name })` builds the same object (same keys,
// same order, later ones win) from the empty literal's map, whose transitions are shared — up to 16
// fields: a larger object built that way becomes a dictionary; start those with a member instead.
project.eslint?.addOverride({
  files: ['src/core/**/*.ts', 'src/cdk8s/**/*.ts'],
  rules: {
    'no-restricted-syntax': ['error', {
      selector: 'ObjectExpression[properties.length>1] > SpreadElement:first-child',
      message: 'an object literal that starts with a spread gives each object its own hidden class in Node 20 (see .projenrc.ts): write Object.assign({}, a, { … }) (up to 16 fields), or start with a member',
    }],
  },
});

// cdk8s-plus-27 gives the renderers their types only: loading it costs every process ≈ 80 ms and ≈ 13 MiB of RSS.
project.eslint?.addOverride({
  files: ['src/**/*.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', {
      paths: [{ name: 'cdk8s-plus-27', allowTypeImports: true, message: 'use `import type` from cdk8s-plus-27 (the kinds are in KUBE, src/cdk8s/private/object.ts): the library never loads it at run time.' }],
    }],
  },
});

// Examples and benchmarks are type-checked through test/tsconfig.json (which maps `mlplatform/*` to src/).
project.eslint?.addOverride({
  files: ['examples/**/*.ts', 'bench/**/*.ts'],
  parserOptions: { projectService: false, project: './test/tsconfig.json' },
} as any);
// The benchmark is development tooling run from the repository (never published): it may import dev dependencies (typescript).
project.eslint?.addOverride({
  files: ['bench/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});
project.eslint?.addRules({
  '@stylistic/max-len': ['error', { code: 180, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreComments: false }],
});

// The programs the pods run are real files in src/programs/ (DESIGN.md §8): the compile step copies them to
// lib/programs/, where the loader (src/cdk8s/private/programs.ts) finds them beside the compiled renderers.
project.compileTask.exec('node scripts/copy-programs.js');
project.npmignore?.addPatterns('!/lib/programs/');
// Their bytes are the ConfigMaps' data and their hashes are in object names: no line-ending conversion on checkout.
project.gitattributes.addAttributes('/src/programs/**', 'text', 'eol=lf');

project.addTask('lint:programs', {
  description: "Lint src/programs/ and test/programs/: shellcheck, pyflakes3 and the system Python's py_compile (Debian's shellcheck, pyflakes3, python3; never skipped)",
  exec: 'node scripts/lint-programs.js',
});
project.addTask('test:programs', {
  description: "Unit-test src/programs/ with pytest (test/programs/; the system Python with Debian's python3-pytest, python3-optuna and python3-boto3)",
  exec: '/usr/bin/python3 -m pytest -q -p no:cacheprovider test/programs',
  // No byte code beside the programs (the build copies their folder) or the tests.
  env: { PYTHONDONTWRITEBYTECODE: '1' },
});
project.gitignore.exclude('__pycache__/', '.pytest_cache/');

// API.md: generated from the doc comments, committed, and checked for staleness by `npm test`.
project.addTask('docgen', {
  description: 'Generate API.md from the doc comments',
  exec: 'node scripts/api-docs.js',
});
project.addTask('docgen:check', {
  description: 'Fail when API.md is stale',
  exec: 'node scripts/api-docs.js --check',
});
project.addTask('typecheck', {
  description: 'Type-check sources, tests, examples and scripts without emitting',
  exec: 'tsc --noEmit -p test/tsconfig.json',
});
project.addTask('schemas', {
  description: 'Download the pinned upstream schema files (schemas/manifest.json) into .schemas-cache/',
  exec: 'node scripts/fetch-schemas.js',
});
project.addTask('synth', {
  description: 'Synthesize the example platform into dist/ (as `cdk8s synth` does)',
});
project.tasks.tryFind('synth')!.spawn(project.compileTask);
project.tasks.tryFind('synth')!.exec('ts-node --transpile-only --project test/tsconfig.json examples/cdk8s-platform/main.ts');

project.addTask('report:update', {
  description: 'Regenerate the committed example report examples/cdk8s-platform/platform.md',
  exec: 'jest test/cdk8s/report-example.test.ts',
  env: { MLPLATFORM_UPDATE_REPORT: '1' },
});

project.addTask('fuzz', {
  description: 'Property-based fuzzing of the four constructs: 10,000 cases per property — valid configurations, one invalid field, hostile strings and wrong JavaScript values at every prop derived from the declarations (`npm run fuzz -- <runs>`; FUZZ_SEED, FUZZ_PROPERTY=valid|invalid|hostile|wrong)',
}).exec('ts-node --transpile-only --project test/tsconfig.json test/fuzz/fuzz-main.ts', { receiveArgs: true });
project.addTask('shapes', {
  description: 'Regenerate src/core/prop-shapes-data.ts, the run-time shapes of the props, from the TypeScript declarations',
}).exec('ts-node --transpile-only --project test/tsconfig.json test/fuzz/write-shapes.ts');
project.addTask('bench', {
  description: 'Synth benchmark: 10, 100 and 1,000 workloads against hand-written cdk8s objects, per construct, and the default footprint vs Kubeflow (BENCH_RUNS, BENCH_SIZES, BENCH_BASELINE_SIZES, BENCH_BREAKDOWN)',
}).exec('ts-node --transpile-only --project test/tsconfig.json bench/synth-main.ts');

project.addTask('bench:instructions', {
  description: "The bench's 100-workload synthesis counted under valgrind's callgrind (instructions, cache misses, mispredicted branches) for mlplatform and the hand-written forms (needs valgrind; BENCH_RUNS)",
}).exec('ts-node --transpile-only --project test/tsconfig.json bench/instructions-main.ts');

project.addTask('footprint', {
  description: "Print the default platform's requested CPU/memory, object count and YAML bytes",
}).exec('ts-node --transpile-only --project test/tsconfig.json bench/footprint-main.ts');
project.tasks.tryFind('footprint')!.prependSpawn(project.compileTask);

// `npm test`: compile, type-check tests/examples, lint and unit-test the programs, jest, lint, API.md freshness.
const test = project.tasks.tryFind('test')!;
test.reset();
test.spawn(project.compileTask);
test.spawn(project.tasks.tryFind('typecheck')!);
test.spawn(project.tasks.tryFind('lint:programs')!);
test.spawn(project.tasks.tryFind('test:programs')!);
// Engine tests (real Optuna + PostgreSQL, torchrun) are timing-sensitive: run them alone, after the rest.
test.exec('jest --passWithNoTests=false --ci --testPathIgnorePatterns /node_modules/ /lib/ /dist/ /test/engine/ /test/cluster/');
test.exec('jest --passWithNoTests=false --ci --runInBand test/engine');
test.exec('eslint --ext .ts --no-error-on-unmatched-pattern src test examples bench .projenrc.ts', {
  env: { ESLINT_USE_FLAT_CONFIG: 'false' },
});
test.spawn(project.tasks.tryFind('docgen:check')!);

// The cluster tier (test/cluster/README.md): a real control plane, kwok nodes, Kueue, Argo Workflows, MLflow and the
// store, built from their own packages by test/cluster/build-engines.sh. Not part of `npm test`; `.ci/run` runs it.
project.addTask('test:cluster', {
  description: 'The cluster tier: builds or reuses the engines (test/cluster/build-engines.sh), then runs test/cluster against them',
}).exec('jest --passWithNoTests=false --ci --runInBand --config test/cluster/jest.config.js', { receiveArgs: true });

// The source maps ship beside the JavaScript (see tsconfig above).
project.npmignore?.addPatterns('!/lib/**/*.js.map');

project.synth();
