// Validation of built-in Kubernetes kinds, as the API server would do it for `kubectl apply`:
//  - the schema (types, required fields, enums, formats) with kubernetes-models' validators,
//    picked by apiVersion and kind; an unknown apiVersion/kind is an error;
//  - no unknown fields (kubectl's default --validate=strict makes the API server refuse them).
//    kubernetes-models' schemas allow any extra property, so field names are checked against
//    the API types' field lists that @kubernetes/client-node generates from the same OpenAPI
//    definitions (release-1.36).
import * as k8s from '@kubernetes/client-node';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { KubeObject } from './load.ts';

interface ModelClass {
  new (data: never): { validate(): void };
}

/** The built-in kinds Weft's manifests use (and a few neighbours), by "apiVersion/kind". */
const BUILTIN_KINDS: Record<string, { model: ModelClass; apiType: string }> = {};
function register(apiVersion: string, kind: string, model: unknown): void {
  BUILTIN_KINDS[`${apiVersion}/${kind}`] = { model: model as ModelClass, apiType: `V1${kind}` };
}
register('v1', 'Namespace', Namespace);
register('v1', 'ServiceAccount', ServiceAccount);
register('v1', 'Service', Service);
register('v1', 'ConfigMap', ConfigMap);
register('v1', 'Secret', Secret);
register('v1', 'Pod', Pod);
register('apps/v1', 'Deployment', Deployment);
register('batch/v1', 'Job', Job);
register('policy/v1', 'PodDisruptionBudget', PodDisruptionBudget);
register('rbac.authorization.k8s.io/v1', 'Role', Role);
register('rbac.authorization.k8s.io/v1', 'ClusterRole', ClusterRole);
register('rbac.authorization.k8s.io/v1', 'RoleBinding', RoleBinding);
register('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', ClusterRoleBinding);
register('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', MutatingWebhookConfiguration);
register('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CustomResourceDefinition);

export function isBuiltinKind(object: KubeObject): boolean {
  return `${object.apiVersion}/${object.kind}` in BUILTIN_KINDS;
}

/**
 * Problems of a built-in object (empty when valid). Throws for an apiVersion/kind this
 * validator does not know, so nothing is ever waved through unchecked.
 */
export function validateBuiltin(object: KubeObject): string[] {
  const entry = BUILTIN_KINDS[`${object.apiVersion}/${object.kind}`];
  if (!entry) throw new Error(`no validator for ${object.apiVersion} ${object.kind}`);
  const problems: string[] = [];
  try {
    new entry.model(structuredClone(object) as never).validate();
  } catch (error) {
    problems.push(`schema: ${(error as Error).message}`);
  }
  problems.push(...unknownFields(object, entry.apiType, ''));
  return problems;
}

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

function attributesOf(typeName: string): readonly Attribute[] | undefined {
  const model = (k8s as unknown as Record<string, { attributeTypeMap?: readonly Attribute[] } | undefined>)[typeName];
  return model?.attributeTypeMap;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

/** Fields of `value` that its API type (`typeName`, e.g. V1Deployment) does not have, as paths. */
export function unknownFields(value: unknown, typeName: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = ARRAY.exec(typeName);
  if (array) return Array.isArray(value) ? value.flatMap((item, index) => unknownFields(item, array[1] as string, `${path}[${index}]`)) : [];
  const map = MAP.exec(typeName);
  if (map) return typeof value === 'object' ? Object.entries(value).flatMap(([key, item]) => unknownFields(item, map[1] as string, `${path}.${key}`)) : [];
  const attributes = attributesOf(typeName);
  if (!attributes || typeof value !== 'object' || Array.isArray(value)) return [];
  const problems: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((candidate) => candidate.baseName === key);
    const at = path === '' ? key : `${path}.${key}`;
    if (!attribute) {
      problems.push(`${at}: unknown field (${typeName} has ${attributes.map((candidate) => candidate.baseName).join(', ')})`);
      continue;
    }
    // JSON schema nodes (CRDs) type `items` and `additionalProperties` as any: a schema or a bool.
    const type = typeName === 'V1JSONSchemaProps' && (key === 'items' || key === 'additionalProperties') && typeof item === 'object' ? 'V1JSONSchemaProps' : attribute.type;
    problems.push(...unknownFields(item, type, at));
  }
  return problems;
}
