import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as a manifest holds it. */
export interface K8sResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Kinds that live outside any namespace (the ones these manifests could hold). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume']);

/** What this resolver understands of a kustomization; any other field is refused, never ignored. */
const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'images',
  'replicas',
  'patches',
  'configMapGenerator',
  'generatorOptions',
]);

interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path?: string; patch?: string; target?: PatchTarget }[];
  configMapGenerator?: { name: string; files?: string[]; literals?: string[] }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

interface PatchTarget {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** Every YAML document of a file, empty documents left out; a syntax error names the file. */
export function readYamlDocuments(file: string): unknown[] {
  return parseYamlDocuments(readFileSync(file, 'utf8'), file);
}

/** Every YAML document of a text; `source` names it in errors. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const parsed: unknown[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0]?.message}`);
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) parsed.push(value);
  }
  return parsed;
}

/**
 * `kustomize build <dir>` for the subset these manifests use: resources (files and directories),
 * namespace, images, replicas, JSON 6902 patches with a target, configMapGenerator without name
 * hashes. Anything else in a kustomization is an error, so the checks never run on a resolution
 * that quietly differs from kustomize's (the spec compares the two where kubectl is installed).
 */
export function buildKustomization(dir: string): K8sResource[] {
  const file = join(dir, 'kustomization.yaml');
  const [raw] = readYamlDocuments(file) as Record<string, unknown>[];
  if (raw === undefined) throw new Error(`${file}: empty`);
  for (const field of Object.keys(raw)) {
    if (!SUPPORTED_FIELDS.has(field))
      throw new Error(`${file}: "${field}" is not supported by this resolver`);
  }
  const kustomization = raw as Kustomization;

  let resources: K8sResource[] = [];
  for (const entry of kustomization.resources ?? []) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new Error(`${file}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) resources.push(...buildKustomization(path));
    else resources.push(...(readYamlDocuments(path) as K8sResource[]));
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    if (kustomization.generatorOptions?.disableNameSuffixHash !== true) {
      throw new Error(`${file}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true here`);
    }
    const data: Record<string, string> = {};
    for (const name of generator.files ?? []) data[name] = readFileSync(join(dir, name), 'utf8');
    for (const literal of generator.literals ?? []) {
      const at = literal.indexOf('=');
      data[literal.slice(0, at)] = literal.slice(at + 1);
    }
    resources.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
  }

  if (kustomization.namespace !== undefined) {
    const namespace = kustomization.namespace;
    resources = resources.map((resource) =>
      CLUSTER_SCOPED.has(resource.kind)
        ? resource
        : { ...resource, metadata: { ...resource.metadata, namespace } },
    );
  }
  for (const image of kustomization.images ?? []) resources.forEach((r) => replaceImage(r, image));
  for (const { name, count } of kustomization.replicas ?? []) {
    const targets = resources.filter(
      (r) => ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(r.kind) && r.metadata.name === name,
    );
    if (targets.length === 0) throw new Error(`${file}: replicas: no workload named ${name}`);
    for (const target of targets) (target['spec'] as Record<string, unknown>)['replicas'] = count;
  }
  for (const patch of kustomization.patches ?? []) {
    if (patch.target === undefined)
      throw new Error(`${file}: a patch without a target is not supported here`);
    const text = patch.patch ?? readFileSync(join(dir, patch.path ?? ''), 'utf8');
    const [operations] = parseYamlDocuments(text, `${file}: patch`) as JsonPatchOperation[][];
    const targets = resources.filter((r) => matches(r, patch.target ?? {}));
    if (targets.length === 0)
      throw new Error(`${file}: patch target ${JSON.stringify(patch.target)} matches nothing`);
    for (const target of targets) for (const operation of operations ?? []) applyOperation(target, operation);
  }
  return resources;
}

/** The resource of a kind and name, or an error saying which is missing. */
export function findResource(resources: readonly K8sResource[], kind: string, name: string): K8sResource {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
}

function matches(resource: K8sResource, target: PatchTarget): boolean {
  return (
    (target.kind === undefined || resource.kind === target.kind) &&
    (target.name === undefined || resource.metadata.name === target.name) &&
    (target.namespace === undefined || resource.metadata.namespace === target.namespace)
  );
}

function replaceImage(value: unknown, image: NonNullable<Kustomization['images']>[number]): void {
  if (Array.isArray(value)) {
    value.forEach((item) => replaceImage(item, image));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(record)) {
    if ((key === 'containers' || key === 'initContainers') && Array.isArray(child)) {
      for (const container of child as { image?: string }[]) {
        if (container.image === undefined) continue;
        const { name, tag } = splitImage(container.image);
        if (name !== image.name) continue;
        const newName = image.newName ?? name;
        if (image.digest !== undefined) container.image = `${newName}@${image.digest}`;
        else
          container.image =
            tag === undefined && image.newTag === undefined ? newName : `${newName}:${image.newTag ?? tag}`;
      }
    } else {
      replaceImage(child, image);
    }
  }
}

function splitImage(image: string): { name: string; tag?: string } {
  const at = image.lastIndexOf(':');
  if (at <= image.lastIndexOf('/')) return { name: image };
  return { name: image.slice(0, at), tag: image.slice(at + 1) };
}

function applyOperation(target: K8sResource, operation: JsonPatchOperation): void {
  const keys = operation.path
    .split('/')
    .slice(1)
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = keys.pop();
  if (last === undefined) throw new Error(`patch path ${operation.path} is empty`);
  let parent: unknown = target;
  for (const key of keys) {
    parent = (parent as Record<string, unknown>)[key];
    if (parent === undefined || parent === null) {
      throw new Error(
        `patch path ${operation.path} does not exist in ${target.kind} ${target.metadata.name}`,
      );
    }
  }
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (operation.op === 'add') parent.splice(index, 0, operation.value);
    else if (operation.op === 'replace') parent[index] = operation.value;
    else parent.splice(index, 1);
    return;
  }
  const record = parent as Record<string, unknown>;
  if (operation.op !== 'add' && !(last in record)) {
    throw new Error(
      `patch ${operation.op} ${operation.path}: nothing there in ${target.kind} ${target.metadata.name}`,
    );
  }
  if (operation.op === 'remove') delete record[last];
  else record[last] = operation.value;
}
