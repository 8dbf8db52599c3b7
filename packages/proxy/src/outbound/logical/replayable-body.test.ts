import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { replayableBody } from './replayable-body.ts';

async function text(stream: Readable | null | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream ?? []) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('replayableBody', () => {
  it('streams the first attempt as it arrives, and replays the body once it has ended', async () => {
    const source = new PassThrough();
    const body = replayableBody(source, undefined, 1024);
    const first = body.first() as Readable;
    source.write('hello ');
    const firstChunk = await new Promise<Buffer>((resolve) => first.once('data', resolve));
    assert.equal(firstChunk.toString(), 'hello ', 'the first attempt does not wait for the end');
    assert.equal(body.replay(), undefined, 'not replayable before the end');
    source.end('world');
    const rest = await text(first);
    assert.equal(`${firstChunk.toString()}${rest}`, 'hello world');
    assert.equal(await text(body.replay()), 'hello world');
    assert.equal(await text(body.replay()), 'hello world');
  });

  it('survives a caller who leaves mid-body after the attempt stopped reading', async () => {
    const source = new PassThrough();
    const body = replayableBody(source, undefined, 1024);
    body.first(); // the attempt failed before reading, and attached nothing
    source.write('partial');
    source.destroy(new Error('aborted'));
    await body.settled;
    // Without a listener of its own the copy's 'error' would have been thrown out of the process.
    assert.equal(body.replay(), undefined);
  });

  it('reuses the copy of an enclosing replayable body instead of buffering the same bytes again', async () => {
    const outer = replayableBody(Readable.from([Buffer.from('once')]), undefined, 1024);
    const first = outer.first() as Readable;
    const inner = replayableBody(first, undefined, 1024);
    assert.equal(inner.first(), first);
    assert.equal(await text(first), 'once');
    await inner.settled;
    assert.equal(await text(inner.replay()), 'once');
  });

  it('does not replay a body larger than the cap, declared or discovered', async () => {
    const declared = replayableBody(Readable.from([Buffer.alloc(10)]), '5000', 1024);
    await text(declared.first());
    assert.equal(declared.replay(), undefined);
    const chunked = replayableBody(Readable.from([Buffer.alloc(800), Buffer.alloc(800)]), undefined, 1024);
    assert.equal((await text(chunked.first())).length, 1600);
    assert.equal(chunked.replay(), undefined);
  });

  it('replays even when the first attempt never read the body', async () => {
    const body = replayableBody(Readable.from([Buffer.from('abc')]), '3', 1024);
    body.first()?.destroy();
    await body.settled;
    assert.equal(await text(body.replay()), 'abc');
  });

  it('has nothing to replay for a request without a body', () => {
    const body = replayableBody(null, undefined);
    assert.equal(body.first(), null);
    assert.equal(body.replay(), null);
  });
});
