// The Pod Security Standards "restricted" profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// checked on a pod spec the way the PodSecurity admission controller checks it (its baseline and restricted
// controls, Kubernetes 1.27), so every pod of the chart and every training Job is admitted by a namespace
// labelled pod-security.kubernetes.io/enforce=restricted.
import type { KubernetesObject, V1Container, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';

/** Volume types the restricted profile allows. */
const allowedVolumeTypes = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** Sysctls the baseline profile allows. */
const safeSysctls = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
]);

/** Every violation of the restricted profile in one pod spec; empty when the pod would be admitted. */
export function restrictedViolations(spec: V1PodSpec): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  const containers: Array<[string, V1Container]> = [
    ...(spec.initContainers ?? []).map((c): [string, V1Container] => [`initContainer ${c.name}`, c]),
    ...spec.containers.map((c): [string, V1Container] => [`container ${c.name}`, c]),
  ];
  // baseline
  if (spec.hostNetwork) out.push('hostNetwork must not be true');
  if (spec.hostPID) out.push('hostPID must not be true');
  if (spec.hostIPC) out.push('hostIPC must not be true');
  for (const s of pod.sysctls ?? [])
    if (!safeSysctls.has(s.name)) out.push(`sysctl ${s.name} is not allowed`);
  if (pod.seLinuxOptions?.user || pod.seLinuxOptions?.role)
    out.push('pod seLinuxOptions.user/role must not be set');
  // restricted: volumes
  for (const v of spec.volumes ?? []) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const t of types)
      if (!allowedVolumeTypes.has(t)) out.push(`volume ${v.name}: type ${t} is not allowed`);
  }
  // restricted: pod-level settings that containers may inherit
  if (pod.runAsUser === 0) out.push('pod runAsUser must not be 0');
  const podSeccomp = pod.seccompProfile?.type;
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost')
    out.push(`pod seccompProfile.type ${podSeccomp} must be RuntimeDefault or Localhost`);
  for (const [where, c] of containers) {
    const sc: V1SecurityContext = c.securityContext ?? {};
    if (sc.privileged) out.push(`${where}: privileged must not be true`);
    for (const p of c.ports ?? [])
      if (p.hostPort) out.push(`${where}: hostPort ${p.hostPort} is not allowed`);
    if (sc.procMount && sc.procMount !== 'Default') out.push(`${where}: procMount must be Default`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation must be false`);
    if (sc.runAsNonRoot === false || (sc.runAsNonRoot !== true && pod.runAsNonRoot !== true))
      out.push(`${where}: runAsNonRoot must be true (on the pod or the container)`);
    if (sc.runAsUser === 0) out.push(`${where}: runAsUser must not be 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      out.push(
        `${where}: seccompProfile.type must be RuntimeDefault or Localhost (on the pod or the container)`,
      );
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${where}: capabilities must drop ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== 'NET_BIND_SERVICE') out.push(`${where}: capability ${cap} must not be added`);
    if (sc.seLinuxOptions?.user || sc.seLinuxOptions?.role)
      out.push(`${where}: seLinuxOptions.user/role must not be set`);
  }
  return out;
}

/** The pod spec inside a workload object (Deployment, StatefulSet, Job, ...), if it has one. */
export function podSpecOf(obj: KubernetesObject): V1PodSpec | undefined {
  const spec = (obj as { spec?: { template?: { spec?: V1PodSpec } } }).spec;
  return spec?.template?.spec;
}
