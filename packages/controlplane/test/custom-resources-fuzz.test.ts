// Hostile custom resources: seeded random edits of TrafficRoutes, DestinationPolicies,
// MeshAuthentications and AccessPolicies, as the Kubernetes API delivers them (JSON objects), judged by
// the Kubernetes registry's assembly. Whatever the edit, assembly never throws; every resource
// gets a verdict; a refused one is Invalid with a message that starts at the field at fault; a
// refused update keeps its earlier generation in force, so the mesh is what it was. Replay a
// failure with FUZZ_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { fuzzSeed, SeededRandom } from '@weft/runtime';
import { Field } from '../src/registry/field.ts';
import { assembleMesh, resourceKey, type AcceptedResource, type CustomResourceInput, type CustomResourceKind, type MeshAssembly } from '../src/registry/kubernetes/custom-resources.ts';
import { DocumentCollector } from '../src/resources/document-kinds.ts';
import { mutateValue } from './document-mutations.ts';
import { FUZZ_BASE_MESH } from './fixtures.ts';

const CASES = 2000;
const MAX_MESSAGE_CHARS = 1000;
/** A verdict's message names the field at fault first, e.g. "spec.http[0].route: ...". */
const PRECISE_MESSAGE = /^(?:apiVersion|metadata|spec)(?:[.[][^:]*)?: \S/;

const documents = parseAllDocuments(FUZZ_BASE_MESH).map((doc) => doc.toJS() as { kind: string; apiVersion: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: unknown });
const collector = new DocumentCollector();
for (const doc of documents.filter((candidate) => candidate.kind === 'Workload')) collector.add('Workload', new Field(doc));
const base = { declaredServices: [], workloads: collector.documents().workloads };

/** The mesh's custom resources as the API server holds them: generation 1, each with its uid. */
const resources: CustomResourceInput[] = documents
  .filter((doc) => doc.kind !== 'Workload')
  .map((doc, index) => ({
    kind: doc.kind as CustomResourceKind,
    object: { apiVersion: doc.apiVersion, kind: doc.kind, metadata: { ...doc.metadata, namespace: doc.metadata.namespace ?? 'default', generation: 1, uid: `uid-${index}` }, spec: doc.spec },
  }));

const keyOf = ({ kind, object }: CustomResourceInput): string => resourceKey(kind, object.metadata?.namespace ?? '', object.metadata?.name ?? '');

function assemble(inputs: readonly CustomResourceInput[], accepted: Map<string, AcceptedResource>, context: string): MeshAssembly {
  try {
    return assembleMesh(base, inputs, accepted, undefined);
  } catch (error) {
    assert.fail(`${context}: threw ${(error as Error).stack ?? String(error)}`);
  }
}

describe('custom resource fuzz', () => {
  const accepted = new Map<string, AcceptedResource>();
  const first = assembleMesh(base, resources, accepted, undefined);

  it('the unedited resources are all accepted, so every refusal below is caused by an edit', () => {
    assert.ok(first.model);
    for (const resource of resources) assert.equal(first.verdicts.get(keyOf(resource))?.accepted, true, keyOf(resource));
  });

  it(`${CASES} edited resources: no throw, a verdict for each, precise refusals, the earlier generation kept in force`, () => {
    const seed = fuzzSeed(0x5eed_0004);
    const random = new SeededRandom(seed);
    let refused = 0;
    for (let index = 0; index < CASES; index++) {
      const target = random.int(resources.length);
      const original = resources[target] as CustomResourceInput;
      // What the API server lets an author change: apiVersion, labels and spec (name, namespace, uid and generation are its own).
      const { value, what } = mutateValue({ apiVersion: original.object.apiVersion, labels: original.object.metadata?.labels, spec: original.object.spec }, random);
      const edited = (typeof value === 'object' && value !== null ? value : {}) as { apiVersion?: unknown; labels?: unknown; spec?: unknown };
      const object = { ...original.object, apiVersion: edited.apiVersion as string, metadata: { ...original.object.metadata, labels: edited.labels as Record<string, string>, generation: 2 }, spec: edited.spec };
      const inputs = resources.map((resource, at) => (at === target ? { kind: original.kind, object } : resource));
      const context = `seed ${seed} case ${index} (${keyOf(original)}: ${what})`;

      const assembly = assemble(inputs, new Map(accepted), context);
      assert.ok(assembly.model, `${context}: the mesh fell apart`);
      for (const input of inputs) {
        const verdict = assembly.verdicts.get(keyOf(input));
        assert.ok(verdict, `${context}: no verdict for ${keyOf(input)}`);
        if (verdict.accepted) continue;
        assert.equal(verdict.reason, 'Invalid', context);
        assert.match(verdict.message, PRECISE_MESSAGE, `${context}: ${keyOf(input)}`);
        assert.ok(verdict.message.length <= MAX_MESSAGE_CHARS, `${context}: ${verdict.message.length} characters: ${verdict.message.slice(0, MAX_MESSAGE_CHARS)}…`);
      }
      const verdict = assembly.verdicts.get(keyOf(original));
      if (verdict?.accepted === false) {
        refused++;
        assert.match(verdict.message, /; generation 1, accepted earlier, stays in force$/, context);
        // Its generation 1 still in force, the others untouched: the mesh is the one before the edit.
        assert.deepEqual(assembly.model, first.model, `${context}: the mesh changed`);
      }
    }
    assert.ok(refused > CASES / 2, `only ${refused} of ${CASES} edits were refused`);
  });

  it('a broken update of a DestinationPolicy does not take out the accepted TrafficRoute that uses its subsets', () => {
    // Found by the fuzz run above: both failed in the same round, and the route was dropped with the policy.
    const inputs = resources.map((resource) =>
      resource.kind === 'DestinationPolicy' && resource.object.metadata?.name === 'audit'
        ? { ...resource, object: { ...resource.object, metadata: { ...resource.object.metadata, generation: 2 }, spec: { host: 'auditaudit', subsets: [{ name: 'shadow', labels: { track: 'shadow' } }] } } }
        : resource,
    );
    const assembly = assemble(inputs, new Map(accepted), 'audit policy edit');
    assert.match(assembly.verdicts.get('DestinationPolicy default/audit')?.message ?? '', /^spec\.host: unknown host "auditaudit".*; generation 1, accepted earlier, stays in force$/);
    assert.equal(assembly.verdicts.get('TrafficRoute default/orders')?.accepted, true);
    assert.deepEqual(assembly.model, first.model);
  });
});
