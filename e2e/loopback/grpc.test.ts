// gRPC through two sidecars: a real @grpc/grpc-js client (h2c to its sidecar) and server
// (h2c from its sidecar), HTTP/2 over mTLS between the sidecars. Unary, server streaming and
// bidirectional calls with statuses, metadata and trailers intact; deadlines; UNAVAILABLE from
// one replica retried on another.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { LoopbackMesh, type MeshDocument } from '@weft/cli';
import { formatHostPort, type HostPort } from '@weft/runtime';
import { ECHO_SERVICE, type EchoRequest } from './grpc-echo-service.ts';
import { httpGet, pollUntil, temporaryDirectory } from './helpers.ts';

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'grpc-echo-server.ts');
const API_VERSION = 'mesh.weft.dev/v1alpha1';
const { Echo, Stream, Chat, Stats } = ECHO_SERVICE as Record<'Echo' | 'Stream' | 'Chat' | 'Stats', (typeof ECHO_SERVICE)[string]>;

interface Unary {
  readonly error: ServiceError | null;
  readonly response: Record<string, unknown> | undefined;
  readonly headers: Metadata | undefined;
  readonly trailers: Metadata | undefined;
}

function unary(client: Client, method: typeof Echo, request: EchoRequest, options: { metadata?: Metadata; deadlineMs?: number } = {}): Promise<Unary> {
  return new Promise((resolve) => {
    let headers: Metadata | undefined;
    let trailers: Metadata | undefined;
    let result: Pick<Unary, 'error' | 'response'> | undefined;
    const finish = (): void => {
      if (result && trailers) resolve({ ...result, headers, trailers });
    };
    const call = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, options.metadata ?? new Metadata(), options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {}, (error, response) => {
      result = { error, response: response as Record<string, unknown> | undefined };
      finish();
    });
    call.on('metadata', (metadata: Metadata) => (headers = metadata));
    call.on('status', (status: StatusObject) => {
      trailers = status.metadata;
      finish();
    });
  });
}

describe('gRPC through two sidecars', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;
  let client: Client;

  before(async () => {
    const dir = await temporaryDirectory('grpc');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'caller', app: false });
    await mesh.addWorkload({ name: 'echo-1', service: 'echo', version: 'v1', program: SERVER, protocol: 'GRPC' });
    await mesh.addWorkload({ name: 'echo-2', service: 'echo', version: 'v2', program: SERVER, protocol: 'GRPC', appArgs: ['--mode', 'unavailable'] });
    const routing: MeshDocument[] = [
      { apiVersion: API_VERSION, kind: 'DestinationPolicy', metadata: { name: 'echo' }, spec: { host: 'echo', subsets: [{ name: 'v1', labels: { version: 'v1' } }] } },
      {
        apiVersion: API_VERSION,
        kind: 'TrafficRoute',
        metadata: { name: 'echo' },
        spec: {
          hosts: ['echo'],
          http: [
            { name: 'unary-retried', match: [{ uri: { exact: '/weft.test.Echo/Echo' } }], route: [{ destination: { host: 'echo' } }], retries: { attempts: 3, retryOn: 'unavailable' } },
            { name: 'streams', route: [{ destination: { host: 'echo', subset: 'v1' } }] },
          ],
        },
      },
    ];
    await mesh.writeMeshFile(mesh.documents(routing));
    client = new Client(formatHostPort(mesh.workload('caller').outbound), credentials.createInsecure(), { 'grpc.default_authority': 'echo:8080' });
    await pollUntil('a unary call through the mesh', 15_000, async () => ((await unary(client, Echo, { message: 'ping' })).error === null ? true : undefined));
  });

  after(async () => {
    client?.close();
    await mesh?.stop();
    await removeDir?.();
  });

  it('unary: response, initial metadata and trailers intact; a failed status passes through', async () => {
    const metadata = new Metadata();
    metadata.set('x-echo', 'marco');
    const ok = await unary(client, Echo, { message: 'hello' }, { metadata });
    assert.equal(ok.error, null);
    assert.deepEqual(ok.response, { message: 'hello', replica: 'echo-1' });
    assert.deepEqual(ok.headers?.get('x-echo'), ['marco']);
    assert.deepEqual(ok.trailers?.get('x-replica'), ['echo-1']);

    const failed = await unary(client, Echo, { message: 'no such order', failWith: 5 });
    assert.equal(failed.error?.code, 5, `NOT_FOUND, got ${failed.error?.code ?? 0} ${failed.error?.details ?? ''}`);
    assert.equal(failed.error?.details, 'no such order');
    assert.deepEqual(failed.trailers?.get('x-replica'), ['echo-1']);
    // Both sidecars label the calls with their gRPC status, read from the trailers.
    for (const [workload, direction] of [['caller', 'outbound'], ['echo-1', 'inbound']] as const) {
      const series = ['0', '5'].map((grpcStatus) => new RegExp(`^weft_requests_total\\{direction="${direction}",.*response_code="200",grpc_status="${grpcStatus}",response_flags="-"\\} [1-9]`, 'm'));
      await pollUntil(`${workload} to count the calls by gRPC status`, 5000, async () => {
        const stats = (await httpGet(mesh.workload(workload).stats, '/stats/prometheus')).text;
        return series.every((pattern) => pattern.test(stats)) ? true : undefined;
      });
    }
  });

  it('UNAVAILABLE from one replica is retried on the other: 50 of 50 succeed', async () => {
    const echo2 = new Client(formatHostPort(mesh.workload('echo-2').appAddress as HostPort), credentials.createInsecure());
    const before = (await unary(echo2, Stats, {})).response?.calls as number;
    // Three at a time, within the default retry budget's floor of three retries in flight.
    const results: Unary[] = [];
    for (let i = 0; i < 50; i += 3) results.push(...(await Promise.all(Array.from({ length: Math.min(3, 50 - i) }, (_, j) => unary(client, Echo, { message: `m${i + j}` })))));
    assert.deepEqual(results.filter((result) => result.error !== null).map((result) => result.error?.message), []);
    const tried = ((await unary(echo2, Stats, {})).response?.calls as number) - before;
    echo2.close();
    assert.ok(tried > 5, `echo-2 answered UNAVAILABLE ${tried} times, each retried`);
  });

  it('server streaming: every message in order, then the trailers', async () => {
    const call = client.makeServerStreamRequest(Stream.path, Stream.requestSerialize, Stream.responseDeserialize, { count: 25 }, new Metadata());
    const messages: unknown[] = [];
    call.on('data', (message: unknown) => messages.push(message));
    const status = await new Promise<StatusObject>((resolve) => call.on('status', resolve));
    assert.equal(status.code, 0);
    assert.deepEqual(status.metadata.get('x-replica'), ['echo-1']);
    assert.deepEqual(messages, Array.from({ length: 25 }, (_, index) => ({ index, replica: 'echo-1' })));
  });

  it('bidirectional streaming: each message answered while the call is open', async () => {
    const call = client.makeBidiStreamRequest(Chat.path, Chat.requestSerialize, Chat.responseDeserialize, new Metadata());
    const replies: unknown[] = [];
    const status = new Promise<StatusObject>((resolve) => call.on('status', resolve));
    for (const message of ['one', 'two', 'three']) {
      const reply = new Promise((resolve) => call.once('data', resolve));
      call.write({ message });
      replies.push(await reply);
    }
    call.end();
    assert.equal((await status).code, 0);
    assert.deepEqual(replies, ['one', 'two', 'three'].map((message) => ({ message, replica: 'echo-1' })));
  });

  it('deadlines hold: a call slower than its deadline ends DEADLINE_EXCEEDED', async () => {
    const slow = await unary(client, Echo, { message: 'slow', delayMs: 1500 }, { deadlineMs: 300 });
    assert.equal(slow.error?.code, 4);
  });

  it('a proxy failure reaches a gRPC caller as a gRPC status', async () => {
    const lost = new Client(formatHostPort(mesh.workload('caller').outbound), credentials.createInsecure(), { 'grpc.default_authority': 'nowhere:8080' });
    const result = await unary(lost, Echo, { message: 'x' });
    lost.close();
    assert.equal(result.error?.code, 12, 'UNIMPLEMENTED for no route, as Envoy answers');
    assert.match(result.error?.details ?? '', /no service nowhere on port 8080/);
    const stats = (await httpGet(mesh.workload('caller').stats, '/stats/prometheus')).text;
    assert.match(stats, /response_flags="NR"/);
  });
});
