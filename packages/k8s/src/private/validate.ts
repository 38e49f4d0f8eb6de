// Validation of produced objects without a cluster, in two independent passes:
// 1. the Kubernetes OpenAPI schema of the object's kind (kubernetes-models: JSON schemas generated from the
//    official Kubernetes 1.27 OpenAPI spec, compiled with ajv): types, formats, required fields, enums;
// 2. no unknown fields (what `kubectl --validate=strict` rejects): every key is checked against the field
//    list of @kubernetes/client-node's generated model for that type, which comes from the same spec.
// Plus object names as the API server checks them (DNS-1123).
// cert-manager's Certificate (a custom resource) is checked against the schema of its CRD,
// cert-manager.io/v1 (@kubernetes-models/cert-manager); its fields are held by the TypeScript type
// ICertificate instead of pass 2, and the templates' Certificates must equal the typed ones.

import type { KubernetesObject } from '@kubernetes/client-node';
import * as k8s from '@kubernetes/client-node';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';

interface SchemaModel {
  validate(): void;
}
type ModelCtor = new (data: never) => SchemaModel;

/** apiVersion/kind → the schema model and the client-node model type name. */
const kinds: Record<string, { model: ModelCtor; type: string }> = {
  'apps/v1/Deployment': { model: Deployment as unknown as ModelCtor, type: 'V1Deployment' },
  'apps/v1/StatefulSet': { model: StatefulSet as unknown as ModelCtor, type: 'V1StatefulSet' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler as unknown as ModelCtor,
    type: 'V2HorizontalPodAutoscaler',
  },
  'batch/v1/Job': { model: Job as unknown as ModelCtor, type: 'V1Job' },
  // No client-node model: the unknown-field pass finds no type and leaves it to ICertificate.
  'cert-manager.io/v1/Certificate': {
    model: Certificate as unknown as ModelCtor,
    type: 'cert-manager.io/v1 Certificate',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    model: NetworkPolicy as unknown as ModelCtor,
    type: 'V1NetworkPolicy',
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget as unknown as ModelCtor,
    type: 'V1PodDisruptionBudget',
  },
  'rbac.authorization.k8s.io/v1/Role': { model: Role as unknown as ModelCtor, type: 'V1Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    model: RoleBinding as unknown as ModelCtor,
    type: 'V1RoleBinding',
  },
  'v1/ConfigMap': { model: ConfigMap as unknown as ModelCtor, type: 'V1ConfigMap' },
  'v1/PersistentVolumeClaim': {
    model: PersistentVolumeClaim as unknown as ModelCtor,
    type: 'V1PersistentVolumeClaim',
  },
  'v1/Secret': { model: Secret as unknown as ModelCtor, type: 'V1Secret' },
  'v1/Service': { model: Service as unknown as ModelCtor, type: 'V1Service' },
  'v1/ServiceAccount': { model: ServiceAccount as unknown as ModelCtor, type: 'V1ServiceAccount' },
};

export const supportedKinds = Object.keys(kinds);

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Kinds whose names the API server checks as DNS-1123 labels rather than subdomains. */
const labelNamedKinds = new Set(['Service', 'Job', 'StatefulSet', 'Deployment']);

interface Attribute {
  baseName: string;
  type: string;
}
type GeneratedModel = { getAttributeTypeMap(): Attribute[] };

function unknownFields(value: unknown, type: string, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) unknownFields(v, array[1], `${path}/${i}`, errors);
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object')
      for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], `${path}/${k}`, errors);
    return;
  }
  const model = (k8s as unknown as Record<string, GeneratedModel | undefined>)[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function' || typeof value !== 'object') return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const fieldType = fields.get(key);
    if (fieldType === undefined) errors.push(`${path}/${key}: unknown field for ${type}`);
    else unknownFields(v, fieldType, `${path}/${key}`, errors);
  }
}

/** All problems with one object; empty when it would be accepted by a strict API server. */
export function validateObject(obj: KubernetesObject): string[] {
  const id = `${obj.apiVersion}/${obj.kind}`;
  const entry = kinds[id];
  const where = `${obj.kind ?? '?'} ${obj.metadata?.name ?? '?'}`;
  if (!entry) return [`${where}: no schema for ${id}`];
  const errors: string[] = [];
  try {
    new entry.model(structuredClone(obj) as never).validate();
  } catch (e) {
    const details = (e as { errors?: Array<{ instancePath: string; message?: string }> }).errors;
    if (details?.length)
      for (const d of details) errors.push(`${where}: schema: ${d.instancePath || '/'} ${d.message}`);
    else errors.push(`${where}: schema: ${(e as Error).message}`);
  }
  const unknown: string[] = [];
  unknownFields(obj, entry.type, '', unknown);
  for (const u of unknown) errors.push(`${where}: ${u}`);
  const name = obj.metadata?.name ?? '';
  const namePattern = labelNamedKinds.has(obj.kind ?? '') ? dns1123Label : dns1123Subdomain;
  if (!namePattern.test(name) || name.length > (labelNamedKinds.has(obj.kind ?? '') ? 63 : 253)) {
    errors.push(`${where}: metadata.name ${JSON.stringify(name)} is not a valid DNS-1123 name`);
  }
  return errors;
}

/** Throws with every problem of every object listed. */
export function assertValid(objects: KubernetesObject[]): void {
  const errors = objects.flatMap(validateObject);
  if (errors.length) throw new Error(`${errors.length} invalid field(s):\n${errors.join('\n')}`);
}
