/**
 * A stand-in for a CSI provisioner (none can run without a container runtime): every
 * PersistentVolumeClaim gets a PersistentVolume of its size and access modes, pre-bound to it
 * (`spec.claimRef`), which kube-controller-manager's real PV controller then binds — what a dynamic
 * provisioner does after the scheduler picked a node (kubernetes/design-proposals
 * volume-provisioning; pkg/controller/volume/persistentvolume/pv_controller.go binds a claim to the
 * volume that names it). The scheduler's VolumeBinding plugin then sees a bound claim.
 */
import { Kube } from './kube';

/** Creates a volume for every claim that has none; returns how many it created. */
export async function provisionVolumes(kube: Kube): Promise<number> {
  const claims = await kube.list('v1', 'PersistentVolumeClaim');
  const volumes = await kube.list('v1', 'PersistentVolume');
  const taken = new Set(volumes.map((v) => `${v.spec.claimRef?.namespace}/${v.spec.claimRef?.name}`));
  let made = 0;
  for (const c of claims) {
    const key = `${c.metadata.namespace}/${c.metadata.name}`;
    if (taken.has(key)) continue;
    await kube.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${c.metadata.uid}` },
      spec: {
        capacity: { storage: c.spec.resources.requests.storage },
        accessModes: c.spec.accessModes,
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: c.spec.storageClassName ?? '',
        claimRef: { namespace: c.metadata.namespace, name: c.metadata.name, uid: c.metadata.uid },
        hostPath: { path: `/tmp/mlplatform-cluster-volumes/${c.metadata.uid}` },
      },
    });
    made++;
  }
  return made;
}
