import * as pulumi from '@pulumi/pulumi';

/** One resource registered with the Pulumi engine under mocks. */
export interface RecordedResource {
  /** The type token, e.g. `aws:s3/bucketV2:BucketV2` or `mlplatform:index:MlPlatform`. */
  readonly type: string;
  /** The logical name. */
  readonly name: string;
  /** The resource's URN under mocks. */
  readonly urn: string;
  /** The URN of its parent (the stack's root when none was given). */
  readonly parent?: string;
  /** Its inputs, with Outputs resolved. */
  readonly inputs: Record<string, any>;
  /** Whether it is a custom resource (false for components). */
  readonly custom: boolean;
  /** The resource options the engine was sent (they never reach `newResource`). */
  readonly options: RecordedOptions;
}

/** Resource options as registered with the engine. */
export interface RecordedOptions {
  /** `retainOnDelete`. */
  readonly retainOnDelete: boolean;
  /** `protect`. */
  readonly protect: boolean;
  /** `ignoreChanges` property paths. */
  readonly ignoreChanges: readonly string[];
  /** URNs of `dependsOn` (and implicit input) dependencies. */
  readonly dependencies: readonly string[];
  /** Provider reference (`<urn>::<id>`), when one was given. */
  readonly provider?: string;
  /** `additionalSecretOutputs`. */
  readonly additionalSecretOutputs: readonly string[];
}

/** Computes extra output state for a mocked resource (e.g. an ARN or a generated bucket name). */
export type StateFn = (args: pulumi.runtime.MockResourceArgs) => Record<string, any>;

/** Options of {@link PulumiMocks.install}. */
export interface MocksOptions {
  readonly project?: string;
  readonly stack?: string;
  readonly preview?: boolean;
  /** Extra output state per resource type. */
  readonly state?: Record<string, StateFn>;
  /** Results of invokes, per token. */
  readonly calls?: Record<string, (inputs: any) => any>;
}

/**
 * Installs `pulumi.runtime.setMocks` and records the type, name, inputs and parent of every
 * registered resource. Create it before importing or constructing any resource:
 *
 * ```ts
 * const mocks = PulumiMocks.install();
 * new MlPlatform('ml', {...});
 * const bucket = await mocks.one('aws:s3/bucketV2:BucketV2', 'ml-artifacts');
 * ```
 */
export class PulumiMocks {
  /**
   * Installs the mocks for project `project` / stack `stack`.
   * @param state per-type extra output state (merged over the inputs)
   */
  public static install(opts: MocksOptions = {}): PulumiMocks {
    const m = new PulumiMocks(opts.state ?? {}, opts.calls ?? {});
    void pulumi.runtime.setMocks(m.mocks(), opts.project ?? 'mlplatform', opts.stack ?? 'test', opts.preview ?? false);
    // The mock monitor does not hand the parent to newResource: wrap it to record each request's parent.
    const monitor = pulumi.runtime.getMonitor() as any;
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
      const key = `${req.getType()}::${req.getName()}`;
      m.parents.set(key, req.getParent() || undefined);
      m.options.set(key, {
        retainOnDelete: req.getRetainondelete?.() === true,
        protect: req.getProtect?.() === true,
        ignoreChanges: req.getIgnorechangesList?.() ?? [],
        dependencies: req.getDependenciesList?.() ?? [],
        provider: req.getProvider?.() || undefined,
        additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
      });
      return original(req, callback);
    };
    return m;
  }

  private readonly recorded: Omit<RecordedResource, 'parent' | 'urn' | 'options'>[] = [];
  private readonly parents = new Map<string, string | undefined>();
  private readonly options = new Map<string, RecordedOptions>();

  private constructor(private readonly state: Record<string, StateFn>, private readonly calls: Record<string, (inputs: any) => any>) {}

  /** Every resource registered so far, after pending registrations settle. */
  public async resources(): Promise<RecordedResource[]> {
    await settle();
    const none: RecordedOptions = { retainOnDelete: false, protect: false, ignoreChanges: [], dependencies: [], additionalSecretOutputs: [] };
    return this.recorded.map((r) => {
      const key = `${r.type}::${r.name}`;
      const parent = this.parents.get(key);
      return { ...r, parent, urn: urnOf(parent, r.type, r.name), options: this.options.get(key) ?? none };
    });
  }

  /** Every registered resource of `type`. */
  public async ofType(type: string): Promise<RecordedResource[]> {
    return (await this.resources()).filter((r) => r.type === type);
  }

  /** The one resource of `type` named `name`; fails listing what exists otherwise. */
  public async one(type: string, name: string): Promise<RecordedResource> {
    const all = await this.ofType(type);
    const hits = all.filter((r) => r.name === name);
    if (hits.length !== 1) throw new Error(`expected one ${type} "${name}", found ${hits.length} (have: ${all.map((r) => r.name).join(', ') || 'none'})`);
    return hits[0];
  }

  /** The resources whose parent is `urn`. */
  public async childrenOf(urn: string): Promise<RecordedResource[]> {
    return (await this.resources()).filter((r) => r.parent === urn);
  }

  private mocks(): pulumi.runtime.Mocks {
    return {
      newResource: (args) => {
        this.recorded.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? true });
        const extra = this.state[args.type]?.(args) ?? {};
        return { id: args.custom === false ? undefined : `${args.name}-id`, state: { ...args.inputs, ...extra } };
      },
      call: (args) => {
        const fn = this.calls[args.token];
        if (!fn) throw new Error(`unmocked call ${args.token}`);
        return fn(args.inputs);
      },
    };
  }
}

/** Resolves an Output to its value (under mocks every Output is known unless a mock leaves it out). */
export function resolve<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((res) => pulumi.output(output).apply((v) => { res(v as T); return v; }));
}

function urnOf(parent: string | undefined, type: string, name: string): string {
  // Same scheme as the mock monitor: the parent's type chain, then this type.
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  let chain = type;
  if (parent) chain = `${parent.split('::')[2].split('$').pop()}$${type}`;
  return `urn:pulumi:${stack}::${project}::${chain}::${name}`;
}

async function settle(): Promise<void> {
  // Let queued registrations reach the mock monitor.
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
