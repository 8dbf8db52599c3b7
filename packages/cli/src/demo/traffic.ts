// Drives demo traffic at a steady rate into the mesh, through a client sidecar, as an app
// calling a service would.
import { Pool } from 'undici';
import { formatHostPort, type HostPort } from '@weft/runtime';

export class TrafficDriver {
  private readonly pool: Pool;
  private readonly host: string;
  private readonly ratePerSecond: number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly maxInFlight = 64;
  sent = 0;

  constructor(options: { via: HostPort; host: string; ratePerSecond: number }) {
    this.pool = new Pool(`http://${formatHostPort(options.via)}`, { pipelining: 1 });
    this.host = options.host;
    this.ratePerSecond = options.ratePerSecond;
  }

  start(): void {
    const tickMs = 20;
    let due = 0;
    this.timer = setInterval(() => {
      due += (this.ratePerSecond * tickMs) / 1000;
      for (; due >= 1; due--) this.send();
    }, tickMs);
  }

  private send(): void {
    // Shed rather than queue without bound if the mesh slows down.
    if (this.inFlight >= this.maxInFlight) return;
    this.inFlight++;
    this.sent++;
    this.pool
      .request({ path: '/', method: 'GET', headers: { host: this.host } })
      .then((response) => response.body.dump())
      .catch(() => undefined)
      .finally(() => this.inFlight--);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pool.close();
  }
}
