import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferProtocol } from './workload.ts';

describe('inferProtocol', () => {
  it('reads Istio-style port-name prefixes', () => {
    assert.deepEqual(['grpc-api', 'http2', 'http-web', 'tcp-db', 'mysql', 'redis-cache', 'web'].map((name) => inferProtocol(name, 8080)), ['GRPC', 'HTTP2', 'HTTP', 'TCP', 'TCP', 'TCP', 'HTTP']);
  });

  it('makes server-first ports TCP, never sniffed', () => {
    assert.deepEqual([3306, 27017, 25, 5432, 8080].map((port) => inferProtocol('', port)), ['TCP', 'TCP', 'TCP', 'TCP', 'HTTP']);
  });
});
