import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, type ResourceKind } from '@weft/proto';
import { planPush } from './push-plan.ts';
import type { ResourceSet} from './snapshot.ts';
import { ResourceSetBuilder } from './snapshot.ts';

const clusters = (...names: string[]): ResourceSet =>
  names.reduce((builder, name) => builder.add(name, { name, service: name }), new ResourceSetBuilder(ResourceType.cluster)).build();
const routes = (...pairs: [string, string][]): ResourceSet =>
  pairs.reduce((builder, [name, cluster]) => builder.add(name, { name, routes: [{ clusters: [{ cluster, weight: 100 }] }] }), new ResourceSetBuilder(ResourceType.route)).build();
const names = (set: ResourceSet): string[] => [...set.resources()].map((r) => r.name);

describe('planPush', () => {
  it('sends everything in dependency order to a new subscriber', () => {
    const sent = new Map<ResourceKind, ResourceSet | undefined>([['route', undefined], ['cluster', undefined]]);
    const target = new Map<ResourceKind, ResourceSet>([['route', routes(['r', 'a'])], ['cluster', clusters('a')]]);
    assert.deepEqual(planPush(sent, target).map((p) => p.kind), ['cluster', 'route']);
  });

  it('sends nothing when versions are unchanged', () => {
    const sent = new Map<ResourceKind, ResourceSet | undefined>([['cluster', clusters('a', 'b')]]);
    assert.deepEqual(planPush(sent, new Map([['cluster', clusters('b', 'a')]])), []);
  });

  it('makes before it breaks: a replaced cluster leaves only after the route moved off it', () => {
    const sent = new Map<ResourceKind, ResourceSet | undefined>([['cluster', clusters('old')], ['route', routes(['r', 'old'])]]);
    const target = new Map<ResourceKind, ResourceSet>([['cluster', clusters('new')], ['route', routes(['r', 'new'])]]);
    const plan = planPush(sent, target);
    assert.deepEqual(plan.map((p) => [p.kind, names(p.set)]), [
      ['cluster', ['new', 'old']],
      ['route', ['r']],
      ['cluster', ['new']],
    ]);
  });

  it('removes in reverse dependency order, after all additions', () => {
    const sent = new Map<ResourceKind, ResourceSet | undefined>([['cluster', clusters('a', 'b')], ['route', routes(['r1', 'a'], ['r2', 'b'])]]);
    const target = new Map<ResourceKind, ResourceSet>([['cluster', clusters('a')], ['route', routes(['r1', 'a'])]]);
    assert.deepEqual(planPush(sent, target).map((p) => [p.kind, names(p.set)]), [
      ['route', ['r1']],
      ['cluster', ['a']],
    ]);
  });
});
