// TEST DOUBLE support (not a Kubernetes API server): the REST verbs on the paths
// @kubernetes/client-node requests, answered from the Store.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';
import { applyPatch } from './patch.ts';
import { apiVersionOf, parseResourcePath, qualifiedName, type ResourceDef, type ResourcePath, type ResourceTable } from './resources.ts';
import { fieldSelector, labelSelector, type Selector } from './selectors.ts';
import type { KubeObject, StatusRule, Store } from './store.ts';
import { reviewToken, type RegisteredToken } from './token-review.ts';
import { OpenWatch, sendExpiredStream } from './watch.ts';

export type ExpiryMode = 'http-410' | 'error-event';

/** One write through a `/status` subresource, kept for tests to inspect. */
export interface StatusWrite {
  readonly method: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly status: unknown;
  readonly generation: number | undefined;
  readonly resourceVersion: string | undefined;
  /** False when the write changed nothing (the server then keeps the resourceVersion). */
  readonly changed: boolean;
}

export interface DoubleState {
  readonly store: Store;
  readonly resources: ResourceTable;
  readonly tokens: Map<string, RegisteredToken>;
  readonly watches: Set<OpenWatch>;
  readonly statusWrites: StatusWrite[];
  readonly bookmarkIntervalMs: number;
  expiryMode: ExpiryMode;
}

interface Call {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  readonly state: DoubleState;
  readonly path: ResourcePath;
  readonly resource: ResourceDef;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function sendJson(response: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export function isWatch(url: URL, path: ResourcePath | undefined): boolean {
  const watch = url.searchParams.get('watch');
  return watch === 'true' || watch === '1' || path?.watchPrefix === true;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', 'request body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw ApiError.badRequest(`invalid JSON body: ${(error as Error).message}`);
  }
}

async function readObject(request: IncomingMessage): Promise<KubeObject> {
  const body = await readJson(request);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ApiError.badRequest('the request body must be a JSON object');
  const object = body as KubeObject;
  object.metadata = { ...(object.metadata ?? {}) };
  return object;
}

/** Handles one request; every failure becomes a Status response. */
export async function handle(request: IncomingMessage, response: ServerResponse, url: URL, state: DoubleState): Promise<void> {
  try {
    await route(request, response, url, state);
  } catch (error) {
    const apiError = error instanceof ApiError ? error : new ApiError(500, 'InternalError', `kube-api-double: ${String(error)}`);
    if (!response.headersSent) sendJson(response, apiError.code, apiError.toStatus());
    else response.destroy();
  }
}

async function route(request: IncomingMessage, response: ServerResponse, url: URL, state: DoubleState): Promise<void> {
  const path = parseResourcePath(url.pathname);
  if (path === undefined) throw ApiError.notFound('the server could not find the requested resource');
  if (path.plural === undefined) return discovery(response, path, state);
  if (path.group === 'authentication.k8s.io' && path.plural === 'tokenreviews' && request.method === 'POST') {
    return sendJson(response, 201, reviewToken(await readJson(request), state.tokens));
  }
  const resource = state.resources.byPlural(path.group, path.version, path.plural);
  if (resource === undefined) throw ApiError.notFound('the server could not find the requested resource');
  checkScope(resource, path);
  const call: Call = { request, response, url, state, path, resource };
  if (path.name === undefined) return collection(call);
  if (path.subresource !== undefined && (path.subresource !== 'status' || !resource.statusSubresource)) {
    throw ApiError.notFound('the server could not find the requested resource');
  }
  return item(call, path.name);
}

function checkScope(resource: ResourceDef, path: ResourcePath): void {
  const misplaced = resource.namespaced ? path.name !== undefined && path.namespace === undefined : path.namespace !== undefined;
  if (misplaced) throw ApiError.notFound('the server could not find the requested resource');
}

function collection(call: Call): Promise<void> | void {
  switch (call.request.method) {
    case 'GET':
      return isWatch(call.url, call.path) ? watch(call) : list(call);
    case 'POST':
      return create(call);
    case 'DELETE':
      return deleteCollection(call);
    default:
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
}

function item(call: Call, name: string): Promise<void> | void {
  switch (call.request.method) {
    case 'GET':
      return get(call, name);
    case 'PUT':
      return replace(call, name);
    case 'PATCH':
      return patch(call, name);
    case 'DELETE':
      return remove(call, name);
    default:
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
}

function selectorOf(url: URL): Selector {
  const labels = labelSelector(url.searchParams.get('labelSelector'));
  const fields = fieldSelector(url.searchParams.get('fieldSelector'));
  return (o) => labels(o) && fields(o);
}

/** Built-in kinds' list items carry no apiVersion/kind on the real server; custom resources' do. */
function listItem(resource: ResourceDef, object: KubeObject): unknown {
  if (resource.custom) return object;
  const { apiVersion: _a, kind: _k, ...rest } = object;
  return rest;
}

function list(call: Call): void {
  const { resource, state } = call;
  const selector = selectorOf(call.url);
  const items = state.store.all(resource, call.path.namespace).filter(selector);
  sendJson(call.response, 200, {
    apiVersion: apiVersionOf(resource),
    kind: `${resource.kind}List`,
    metadata: { resourceVersion: String(state.store.resourceVersion) },
    items: items.map((o) => listItem(resource, o)),
  });
}

function watch(call: Call): void {
  const { state, url } = call;
  const since = startRevision(url.searchParams.get('resourceVersion'));
  if (since !== undefined && since < state.store.compacted) {
    if (state.expiryMode === 'error-event') return sendExpiredStream(call.response);
    throw new ApiError(410, 'Expired', `too old resource version: ${since} (${state.store.compacted})`);
  }
  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? NaN);
  const open = new OpenWatch(call.response, { resource: call.resource, namespace: call.path.namespace, selector: selectorOf(url) }, state.store);
  state.watches.add(open);
  open.start(since, state.bookmarkIntervalMs, timeout > 0 ? timeout : undefined, () => state.watches.delete(open));
}

/** undefined: no resourceVersion, or "0": start with the current state. */
function startRevision(text: string | null): number | undefined {
  if (text === null || text === '' || text === '0') return undefined;
  const revision = Number(text);
  if (!Number.isSafeInteger(revision) || revision < 0) throw ApiError.badRequest(`invalid resource version: ${text}`);
  return revision;
}

function get(call: Call, name: string): void {
  const found = call.state.store.find(call.resource, call.path.namespace, name);
  if (found === undefined) throw notFound(call.resource, name);
  sendJson(call.response, 200, found);
}

function notFound(resource: ResourceDef, name: string): ApiError {
  return ApiError.notFound(`${qualifiedName(resource)} "${name}" not found`, { name, group: resource.group, kind: resource.plural });
}

/** Puts the URL's namespace on the body, refusing a body that names another, as the server does. */
function placeInNamespace(call: Call, object: KubeObject): void {
  const wanted = call.path.namespace;
  if (!call.resource.namespaced) {
    delete object.metadata.namespace;
    return;
  }
  if (object.metadata.namespace !== undefined && object.metadata.namespace !== '' && object.metadata.namespace !== wanted) {
    throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (wanted === undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  object.metadata.namespace = wanted;
}

function mainStatusRule(resource: ResourceDef): StatusRule {
  return resource.statusSubresource ? 'keep-stored' : 'take-incoming';
}

async function create(call: Call): Promise<void> {
  const object = await readObject(call.request);
  placeInNamespace(call, object);
  delete object.metadata.resourceVersion;
  const created = call.state.store.create(call.resource, object, { statusRule: mainStatusRule(call.resource) });
  sendJson(call.response, 201, created);
}

async function replace(call: Call, name: string): Promise<void> {
  const object = await readObject(call.request);
  placeInNamespace(call, object);
  if (object.metadata.name !== name) {
    throw ApiError.badRequest(`the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${name})`);
  }
  const before = call.state.store.find(call.resource, call.path.namespace, name)?.metadata.resourceVersion;
  const toStatus = call.path.subresource === 'status';
  const statusRule = toStatus ? 'status-only' : mainStatusRule(call.resource);
  const updated = call.state.store.update(call.resource, object, { statusRule, requireResourceVersion: call.resource.custom });
  if (toStatus) recordStatusWrite(call, before, updated);
  sendJson(call.response, 200, updated);
}

async function patch(call: Call, name: string): Promise<void> {
  const body = await readJson(call.request);
  const current = call.state.store.find(call.resource, call.path.namespace, name);
  if (current === undefined) throw notFound(call.resource, name);
  const patched = applyPatch(current, body, call.request.headers['content-type'] ?? '', call.resource.custom) as KubeObject;
  if (typeof patched !== 'object' || patched === null || typeof patched.metadata !== 'object') throw ApiError.invalid('the patch removed metadata');
  // A patch cannot rename or move an object.
  patched.metadata = { ...patched.metadata, name, namespace: current.metadata.namespace };
  const toStatus = call.path.subresource === 'status';
  const statusRule = toStatus ? 'status-only' : mainStatusRule(call.resource);
  const updated = call.state.store.update(call.resource, patched, { statusRule });
  if (toStatus) recordStatusWrite(call, current.metadata.resourceVersion, updated);
  sendJson(call.response, 200, updated);
}

function recordStatusWrite(call: Call, before: string | undefined, updated: KubeObject): void {
  call.state.statusWrites.push({
    method: call.request.method ?? '',
    apiVersion: updated.apiVersion,
    kind: updated.kind,
    namespace: updated.metadata.namespace,
    name: updated.metadata.name,
    status: structuredClone(updated['status']),
    generation: updated.metadata.generation,
    resourceVersion: updated.metadata.resourceVersion,
    changed: before !== updated.metadata.resourceVersion,
  });
}

function remove(call: Call, name: string): void {
  const deleted = call.state.store.remove(call.resource, call.path.namespace, name);
  sendJson(call.response, 200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, group: call.resource.group, kind: call.resource.plural, uid: deleted.metadata.uid },
  });
}

function deleteCollection(call: Call): void {
  const { resource, state } = call;
  const doomed = state.store.all(resource, call.path.namespace).filter(selectorOf(call.url));
  const items = doomed.map((o) => state.store.remove(resource, o.metadata.namespace, o.metadata.name));
  sendJson(call.response, 200, {
    apiVersion: apiVersionOf(resource),
    kind: `${resource.kind}List`,
    metadata: { resourceVersion: String(state.store.resourceVersion) },
    items: items.map((o) => listItem(resource, o)),
  });
}

/** `GET /api/v1` or `/apis/{group}/{version}`: the APIResourceList (CustomObjectsApi.getAPIResources). */
function discovery(response: ServerResponse, path: ResourcePath, state: DoubleState): void {
  const resources = state.resources.inGroupVersion(path.group, path.version);
  if (resources.length === 0) throw ApiError.notFound('the server could not find the requested resource');
  const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
  sendJson(response, 200, {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: path.group === '' ? path.version : `${path.group}/${path.version}`,
    resources: resources.flatMap((r) => [
      { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs },
      ...(r.statusSubresource ? [{ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
    ]),
  });
}
