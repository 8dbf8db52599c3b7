// Keep-alive connections for the open-loop generator, one request at a time each (no
// pipelining). A request goes out at once on an idle connection; when none is idle the pool
// opens another (up to a cap), and beyond the cap requests wait in order. Waiting time is
// never hidden: the caller measures latency from each request's scheduled time.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ResponseParser } from './http1-response.ts';

export type Failure = 'connect' | 'reset' | 'protocol';

export interface Completion {
  /** When the request was due (performance.now() milliseconds). */
  readonly scheduled: number;
  /** When it was written to a socket. */
  readonly sent: number;
  readonly done: number;
  /** HTTP status, or the failure that prevented one. */
  readonly outcome: number | Failure;
}

export interface PoolOptions {
  readonly host: string;
  readonly port: number;
  /** The whole serialised request, sent as is each time. */
  readonly request: Buffer;
  readonly maxConnections: number;
  readonly onComplete: (completion: Completion) => void;
}

interface Connection {
  readonly socket: Socket;
  readonly parser: ResponseParser;
  /** Scheduled and sent times of the request in flight, if any. */
  current: { readonly scheduled: number; readonly sent: number } | undefined;
  gone: boolean;
}

export class ConnectionPool {
  private readonly options: PoolOptions;
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private connecting = 0;
  /** Scheduled times of requests waiting for a connection, oldest first. */
  private backlog: number[] = [];
  private backlogHead = 0;
  private inFlightCount = 0;
  /** Most connections open at once, and connections opened in all. */
  peakConnections = 0;
  connectionsOpened = 0;

  constructor(options: PoolOptions) {
    this.options = options;
  }

  /** Requests sent and not yet answered, plus those waiting for a connection. */
  get outstanding(): number {
    return this.inFlightCount + this.backlog.length - this.backlogHead;
  }

  /** Opens `count` connections before measuring, so the first requests do not pay for connects. */
  async warm(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => new Promise<void>((resolve, reject) => this.openConnection(resolve, reject))));
  }

  /** Sends a request due at `scheduled`: now if a connection is free, otherwise as soon as one is. */
  submit(scheduled: number): void {
    const connection = this.idle.pop();
    if (connection) {
      this.send(connection, scheduled);
      return;
    }
    this.backlog.push(scheduled);
    if (this.open.size + this.connecting < this.options.maxConnections) this.openConnection();
  }

  /** Destroys every connection; requests still outstanding are the caller's to count. */
  close(): void {
    for (const connection of this.open) {
      connection.gone = true;
      connection.socket.destroy();
    }
    this.open.clear();
    this.idle.length = 0;
  }

  private openConnection(onReady?: () => void, onFail?: (error: Error) => void): void {
    this.connecting++;
    const socket = connect({ host: this.options.host, port: this.options.port, noDelay: true });
    const connection: Connection = { socket, parser: new ResponseParser(), current: undefined, gone: false };
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      this.connecting--;
      this.connectionsOpened++;
      this.open.add(connection);
      this.peakConnections = Math.max(this.peakConnections, this.open.size);
      onReady?.();
      this.release(connection);
    });
    socket.on('data', (chunk: Buffer) => this.onData(connection, chunk));
    socket.on('end', () => {
      const end = connection.parser.end();
      if (end && connection.current) this.finish(connection, end.status);
      this.drop(connection);
    });
    socket.on('error', (error) => {
      if (!connected) {
        this.connecting--;
        connection.gone = true;
        if (onFail) onFail(error);
        // A failed connect fails the oldest waiting request, so a dead server cannot make the
        // pool retry forever.
        else if (this.backlogHead < this.backlog.length) {
          const scheduled = this.takeBacklog();
          const now = performance.now();
          this.options.onComplete({ scheduled, sent: now, done: now, outcome: 'connect' });
        }
        return;
      }
      this.drop(connection);
    });
    socket.on('close', () => this.drop(connection));
  }

  private send(connection: Connection, scheduled: number): void {
    const sent = performance.now();
    connection.current = { scheduled, sent };
    this.inFlightCount++;
    connection.socket.write(this.options.request);
  }

  private onData(connection: Connection, chunk: Buffer): void {
    let end;
    try {
      end = connection.parser.push(chunk);
    } catch {
      this.finish(connection, 'protocol');
      connection.socket.destroy();
      return;
    }
    if (!end) return;
    if (!connection.current) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      connection.socket.destroy();
      return;
    }
    this.finish(connection, end.status);
    if (end.close) connection.socket.end();
    else this.release(connection);
  }

  private finish(connection: Connection, outcome: number | Failure): void {
    const current = connection.current;
    if (!current) return;
    connection.current = undefined;
    this.inFlightCount--;
    this.options.onComplete({ scheduled: current.scheduled, sent: current.sent, done: performance.now(), outcome });
  }

  /** A free connection takes the oldest waiting request, or becomes idle. */
  private release(connection: Connection): void {
    if (connection.gone) return;
    if (this.backlogHead < this.backlog.length) this.send(connection, this.takeBacklog());
    else this.idle.push(connection);
  }

  private takeBacklog(): number {
    const scheduled = this.backlog[this.backlogHead++] as number;
    // Compact now and then so the queue does not grow without bound.
    if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
    return scheduled;
  }

  private drop(connection: Connection): void {
    if (connection.current) this.finish(connection, 'reset');
    if (!this.open.delete(connection)) return;
    connection.gone = true;
    const index = this.idle.indexOf(connection);
    if (index !== -1) this.idle.splice(index, 1);
    connection.socket.destroy();
    // Requests may be waiting on a connection that just went away.
    if (this.backlogHead < this.backlog.length && this.open.size + this.connecting < this.options.maxConnections) this.openConnection();
  }
}
