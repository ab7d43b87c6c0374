/**
 * Where the harness reads the objects a kubelet reads from the API server: the pod's ConfigMaps,
 * Secrets, ServiceAccount and the namespace's Services. One small interface, so the in-memory source
 * built from the synthesized objects (plus the Secrets the bootstrap program writes) can later be
 * swapped for a real kube-apiserver (test/cluster/control-plane.ts).
 */

/** A Kubernetes object as JSON. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: any;
}

/** What the kubelet reads. `getObject` answers undefined for an object that does not exist (HTTP 404). */
export interface ObjectSource {
  getObject(kind: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Every object of `kind` in `namespace`, or in every namespace (the kubelet lists Services for the service links; the harness maps their DNS names). */
  listObjects(kind: string, namespace?: string): Promise<KubeObject[]>;
}

/** A Secret's data decoded (the API server turns `stringData` into `data` on write). */
export function secretData(secret: KubeObject): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries<string>(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries<string>(secret.stringData ?? {})) out[k] = Buffer.from(v, 'utf8');
  return out;
}

/** A ConfigMap's `data` and `binaryData` as bytes. */
export function configMapData(cm: KubeObject): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries<string>(cm.data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries<string>(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

/**
 * The synthesized objects in memory, plus objects put later (the Secrets a bootstrap program
 * writes). A later `put` of the same kind/namespace/name replaces the earlier object.
 */
export class MemorySource implements ObjectSource {
  private readonly objects = new Map<string, KubeObject>();

  constructor(objects: readonly KubeObject[] = []) {
    for (const o of objects) this.put(o);
  }

  public put(o: KubeObject): void {
    if (!o.metadata?.name) throw new Error(`object of kind ${o.kind} has no name`);
    this.objects.set(key(o.kind, o.metadata.namespace ?? '', o.metadata.name), o);
  }

  /** Puts a v1 Secret with `data` from plain strings. */
  public putSecret(namespace: string, name: string, data: Record<string, string>): void {
    this.put({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, namespace },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
    });
  }

  public delete(kind: string, namespace: string, name: string): void {
    this.objects.delete(key(kind, namespace, name));
  }

  public async getObject(kind: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.getSync(kind, namespace, name);
  }

  public getSync(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(key(kind, namespace, name));
  }

  public async listObjects(kind: string, namespace?: string): Promise<KubeObject[]> {
    return this.listSync(kind, namespace);
  }

  public listSync(kind: string, namespace?: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => o.kind === kind && (namespace === undefined || (o.metadata.namespace ?? '') === namespace));
  }
}

function key(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
