// The props list derived from the TypeScript declarations (prop-paths.ts): the known props of every
// construct and Pulumi component appear, and a prop added to an interface appears without anyone listing it.
import * as path from 'path';
import * as ts from 'typescript';
import { allPropPaths, derivePaths, findEntries, ROOT } from './prop-paths';

const strings = (entry: string) => new Set(allPropPaths().paths.filter((p) => p.entry === entry && p.leaf === 'string').map((p) => p.text));

describe('props list derived from the declarations', () => {
  test('entry points: the four constructs, their add* methods and the Pulumi components', () => {
    const names = allPropPaths().entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining([
      'MlPlatform', 'MlPlatform.addGpuPool#1', 'MlPlatform.addTenant#1', 'TrainingPipeline', 'TrainingPipeline.addStep#1', 'TuningSweep', 'ModelEndpoint',
      'pulumi.MlPlatform', 'pulumi.TrainingPipeline', 'pulumi.TuningSweep', 'pulumi.ModelEndpoint', 'pulumi.GpuNodePool', 'pulumi.WorkloadIdentity', 'pulumi.Database', 'pulumi.ArtifactBucket',
    ]));
  }, 60_000);

  test('known string props appear, through interfaces, arrays, records, unions and factories', () => {
    expect(strings('MlPlatform')).toEqual(expect.objectContaining({}));
    const platform = strings('MlPlatform');
    for (const p of ['namespace', 'backendStore<BackendStore.external#0>.host', 'exposure<Exposure.gateway#0>.apps.hostnames[]',
      'artifactStore<ArtifactStore.s3#0>.credentials.workloadIdentity.serviceAccountAnnotations{}', 'tracking.auth<TrackingAuth.oidc#0>.allowedGroups[]',
      'versions.images.mlflow', 'backendStore<BackendStore.embedded#0>.backup.schedule']) expect(platform).toContain(p);
    const pipeline = strings('TrainingPipeline');
    for (const p of ['steps[].image', 'steps[].args[]', 'steps[].env{}', 'steps[].inputs{}<Dataset.fromDvc#0>.repository', 'parameters{}.default', 'schedule.cron', 'onExit.image']) expect(pipeline).toContain(p);
    expect(strings('TuningSweep')).toContain('trial.image');
    expect(strings('ModelEndpoint')).toContain('versions[]<ModelSource.uri#0>'.replace('versions[]', 'versions[].model'));
    expect(strings('pulumi.WorkloadIdentity').size).toBeGreaterThan(0);
    // Record keys are strings the user writes too.
    expect(allPropPaths().paths.some((p) => p.entry === 'TrainingPipeline' && p.leaf === 'key' && p.text === 'steps[].env{}')).toBe(true);
  });

  test('the list is large: several hundred string paths over the cdk8s constructs', () => {
    const n = allPropPaths().paths.filter((p) => !p.entry.startsWith('pulumi.') && ['string', 'literal', 'key'].includes(p.leaf)).length;
    expect(n).toBeGreaterThan(400);
  });

  test('a prop added to a fixture interface appears, with no list edited', () => {
    const fixture = path.join(ROOT, 'test', 'fuzz', 'fixtures', 'props-fixture.ts');
    const original = ts.sys.readFile(fixture)!;
    const added = original.replace('  /** A plain string. */\n  readonly title?: string;', '  /** A plain string. */\n  readonly title?: string;\n  /** Added later. */\n  readonly addedLater?: { readonly deep: readonly string[] };');
    expect(added).not.toBe(original);
    const derive = (text: string) => {
      const host = ts.createCompilerHost({ strict: true, skipLibCheck: true, esModuleInterop: true });
      const read = host.readFile.bind(host);
      host.readFile = (f) => (path.resolve(f) === fixture ? text : read(f));
      const getSourceFile = host.getSourceFile.bind(host);
      host.getSourceFile = (f, lang, onError, create) => (path.resolve(f) === fixture ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, onError, create));
      const program = ts.createProgram([fixture], { strict: true, skipLibCheck: true, esModuleInterop: true, noEmit: true }, host);
      const entry = { name: 'Fixture', module: path.relative(ROOT, fixture), cls: 'FixtureConstruct', member: 'constructor', param: 2 };
      return derivePaths(program, entry).map((p) => `${p.leaf} ${p.text}`);
    };
    const before = derive(original);
    const after = derive(added);
    expect(before).toEqual(expect.arrayContaining(['string title', 'key env{}', 'string env{}', 'literal mode', 'string mode.host', 'string mode.names[]',
      'string size<Size.parse#0>', 'number size<Size.gibibytes#0>', 'string items[].host']));
    expect(after.filter((p) => !before.includes(p))).toEqual(['object addedLater', 'string addedLater.deep[]']);
  }, 60_000);

  test('findEntries finds add* methods of a construct', () => {
    const fixture = path.join(ROOT, 'test', 'fuzz', 'fixtures', 'props-fixture.ts');
    const program = ts.createProgram([fixture], { strict: true, skipLibCheck: true, noEmit: true });
    void findEntries; // the real entry points are covered above; the fixture module is no entry point module
    const checker = program.getTypeChecker();
    const sf = program.getSourceFile(fixture)!;
    const cls = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).find((s) => s.getName() === 'FixtureConstruct')!;
    const paths = derivePaths(program, { name: 'Fixture.addThing#1', module: path.relative(ROOT, fixture), cls: cls.getName(), member: 'addThing', param: 1 });
    expect(paths.map((p) => `${p.leaf} ${p.text}`)).toEqual(['object ', 'string host', 'string names[]']);
  });
});
