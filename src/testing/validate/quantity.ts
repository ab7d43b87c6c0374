/** A Kubernetes resource quantity, as `resource.ParseQuantity` accepts it (no `2GB`, no spaces). */
export const QUANTITY = /^[+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

const SUFFIX: Readonly<Record<string, number>> = {
  'n': 1e-9,
  'u': 1e-6,
  'm': 1e-3,
  '': 1,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/** The value of a quantity (`500m` is 0.5, `1Gi` is 2^30); `NaN` when it is not a valid quantity. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string' || !QUANTITY.test(q)) return NaN;
  const m = q.match(/^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$/)!;
  const num = Number(m[1]);
  const suffix = m[2];
  if (/^[eE]/.test(suffix)) return num * 10 ** Number(suffix.slice(1));
  return num * SUFFIX[suffix];
}
