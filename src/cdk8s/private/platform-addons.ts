import { Construct } from 'constructs';
import { renderAddons } from './addons';
import { AddonDeliverySpec, AddonName, addonValues, AddonValuesInput, PlatformContext, VersionTable } from '../../core';

/** What the platform's add-on rendering needs; `context` is read at synth time. */
export interface PlatformAddonsInput {
  readonly delivery: AddonDeliverySpec;
  readonly versions: VersionTable;
  readonly context: () => PlatformContext;
  readonly gatewayApi: boolean;
  readonly overrides?: AddonValuesInput['overrides'];
}

/** Values input from the platform's live context. */
export function addonValuesInput(ctx: PlatformContext, i: Pick<PlatformAddonsInput, 'gatewayApi' | 'overrides'>): AddonValuesInput {
  return {
    platformNamespace: ctx.namespace,
    tenantNamespaces: ctx.tenants.map((t) => t.namespace),
    store: ctx.store,
    pools: ctx.pools,
    gatewayApi: i.gatewayApi,
    overrides: i.overrides,
  };
}

/**
 * Renders add-ons as they become enabled: the platform calls {@link PlatformAddons.ensure} at
 * construction and again when a pool or a queued tenant turns one on. Values are computed at synth
 * time, so pools and tenants added later show up in every add-on's values.
 */
export class PlatformAddons {
  private readonly rendered = new Set<AddonName>();
  private batch = 0;

  constructor(private readonly scope: Construct, private readonly input: PlatformAddonsInput) {}

  /** Renders every add-on of `enabled` not rendered yet. */
  public ensure(enabled: Iterable<AddonName>): void {
    const fresh = [...enabled].filter((a) => !this.rendered.has(a));
    if (fresh.length === 0) return;
    fresh.forEach((a) => this.rendered.add(a));
    const scope = new Construct(this.scope, `addons-${this.batch++}`);
    renderAddons(scope, this.input.delivery, fresh.map((name) => ({
      name,
      chart: this.input.versions.charts[name],
      values: () => addonValues(name, addonValuesInput(this.input.context(), this.input)),
    })));
  }
}
