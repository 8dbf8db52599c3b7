// nginx instances of the benchmark: the app (a fixed 200 "ok") and the two proxies of the
// nginx pair. Each gets its own config, prefix, pid and error log in a private directory and
// runs in the foreground as our child (daemon off) — /etc/nginx and the system service are
// never used. One worker each, like one sidecar process.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pinning } from './pinning.ts';
import type { Processes } from './processes.ts';
import { childPids, commandLine } from './proc-stats.ts';
import { waitFor200, waitForPort } from './probe.ts';
import { UPSTREAM_NAME, type NginxTls } from './nginx-tls.ts';

export interface NginxBuild {
  readonly version: string;
  /** Modules compiled out, whose temp-path directives would not parse ("uwsgi", ...). */
  readonly without: ReadonlySet<string>;
}

export function nginxBuild(): NginxBuild {
  // nginx -V prints to stderr; execFileSync only returns stdout, so merge it.
  const text = execFileSync('sh', ['-c', 'nginx -V 2>&1'], { encoding: 'utf8' });
  const version = /nginx version: nginx\/(\S+)/.exec(text)?.[1] ?? 'unknown';
  const without = new Set([...text.matchAll(/--without-http_(\w+)_module/g)].map((match) => match[1] as string));
  return { version, without };
}

/** The app: answers every request with a 3-byte body, as cheaply as nginx can. */
export function appServer(port: number): string {
  return `server {
    listen 127.0.0.1:${port};
    location / { return 200 "ok\\n"; }
  }`;
}

/** The client proxy of the pair: upstream keep-alive over mutual TLS to the server proxy. */
export function clientProxyServer(port: number, upstreamPort: number, tls: NginxTls): string {
  return `upstream ${UPSTREAM_NAME} {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://${UPSTREAM_NAME};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_ssl_certificate ${tls.clientCert};
      proxy_ssl_certificate_key ${tls.clientKey};
      proxy_ssl_trusted_certificate ${tls.caCert};
      proxy_ssl_verify on;
      proxy_ssl_name ${UPSTREAM_NAME};
      proxy_ssl_session_reuse on;
      proxy_ssl_protocols TLSv1.3;
    }
  }`;
}

/** The server proxy of the pair: mutual TLS in (client certificate required), plaintext keep-alive to the app. */
export function serverProxyServer(port: number, appPort: number, tls: NginxTls): string {
  return `upstream app {
    server 127.0.0.1:${appPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${tls.serverCert};
    ssl_certificate_key ${tls.serverKey};
    ssl_client_certificate ${tls.caCert};
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }
  }`;
}

function config(dir: string, build: NginxBuild, server: string): string {
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .filter((kind) => !build.without.has(kind))
    .map((kind) => `  ${kind}_temp_path ${join(dir, `${kind}_temp`)};`)
    .join('\n');
  // keepalive_requests is raised so no hop closes connections every 1000 requests mid-run.
  return `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
lock_file ${join(dir, 'nginx.lock')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
${tempPaths}
  ${server}
}
`;
}

export interface NginxOptions {
  readonly name: string;
  /** Parent directory; the instance uses `<root>/<name>`. */
  readonly root: string;
  readonly port: number;
  readonly server: string;
  /** A Host header for the readiness probe (a GET); undefined for a TLS port, where a connection is probe enough. */
  readonly probeHost: string | undefined;
  readonly cpu: number;
  readonly build: NginxBuild;
  readonly processes: Processes;
  readonly pinning: Pinning;
}

export class Nginx {
  readonly name: string;
  readonly port: number;
  readonly master: number;
  workers: number[] = [];
  private readonly child: ChildProcess;
  private readonly processes: Processes;
  private readonly exited: Promise<unknown>;
  private stderr = '';

  private constructor(options: NginxOptions, child: ChildProcess) {
    this.name = options.name;
    this.port = options.port;
    this.child = child;
    this.master = child.pid as number;
    this.processes = options.processes;
    // Not events.once: it would reject on 'error', and nobody may be awaiting it then.
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Master plus worker: the whole cost of one nginx proxy. */
  get pids(): number[] {
    return [this.master, ...this.workers];
  }

  static async start(options: NginxOptions): Promise<Nginx> {
    const dir = join(options.root, options.name);
    await mkdir(dir, { recursive: true });
    // The workers run as nobody: they must be able to reach their temp directories.
    await chmod(dir, 0o755);
    const conf = join(dir, 'nginx.conf');
    await writeFile(conf, config(dir, options.build, options.server));
    // Started under taskset, so the master and the worker it forks share the mask.
    const [command, args] = options.pinning.command(options.cpu, 'nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;']);
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid === undefined) throw new Error(`${options.name}: nginx did not start`);
    options.processes.track(child.pid);
    const nginx = new Nginx(options, child);
    options.processes.onStop(options.name, () => nginx.stop());
    try {
      const failed = (): string | undefined => (nginx.running ? undefined : 'nginx exited at start');
      if (options.probeHost === undefined) await waitForPort(options.name, options.port, 10_000, failed);
      else await waitFor200(options.name, options.port, options.probeHost, 10_000, failed);
      nginx.workers = await nginx.findWorkers();
    } catch (error) {
      throw new Error(`${String(error)}\n${nginx.stderr}`, { cause: error });
    }
    for (const worker of nginx.workers) options.processes.track(worker);
    return nginx;
  }

  private async findWorkers(): Promise<number[]> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const workers = childPids(this.master);
      if (workers.length > 0) return workers;
      await sleep(20);
    }
    throw new Error(`${this.name}: no worker process under master ${this.master}`);
  }

  /** SIGTERM (fast shutdown), SIGKILL for master and workers if it takes over 5 s. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.killAll(), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    // The master waits for its workers before exiting; this is only a safety net.
    for (let attempt = 0; attempt < 50 && this.workers.some((pid) => existsSync(`/proc/${pid}`)); attempt++) await sleep(20);
    this.killAll();
    for (const pid of this.pids) this.processes.untrack(pid);
  }

  private killAll(): void {
    for (const pid of this.pids) {
      try {
        // Only a process that is still one of ours (an nginx), never a reused pid.
        if (commandLine(pid).startsWith('nginx')) process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
