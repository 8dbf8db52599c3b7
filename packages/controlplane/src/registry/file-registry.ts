// The file registry: a multi-document YAML file is the mesh. The file is read at start (an
// unreadable or invalid file is fatal then), and on every change after: a valid edit replaces
// the model, an invalid one is refused with problems naming document and field, and the last
// good model stays in force.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { RegistryMetrics } from '../metrics/controlplane-metrics.ts';
import type { ModelSettings } from '../model/build-mesh-model.ts';
import type { MeshModel } from '../model/mesh-model.ts';
import { formatFileProblem, MeshFileReader, type FileProblem } from './mesh-file.ts';
import type { MeshRegistry, RegistryStatus } from './mesh-registry.ts';

/** Editors write in several steps; a read waits this long after the last event. */
const SETTLE_MS = 50;
/** fs.watch can miss events (network file systems, some replace-by-rename editors). */
const POLL_MS = 2000;

export class InvalidMeshFileError extends Error {
  readonly problems: readonly FileProblem[];
  constructor(problems: readonly FileProblem[]) {
    super(`invalid mesh file:\n${problems.map(formatFileProblem).join('\n')}`);
    this.name = 'InvalidMeshFileError';
    this.problems = problems;
  }
}

export class FileRegistry implements MeshRegistry {
  private readonly path: string;
  private readonly log: Logger;
  private readonly settings: ModelSettings | undefined;
  private readonly metrics: RegistryMetrics | undefined;
  private readonly listeners = new Set<(model: MeshModel) => void>();
  private model: MeshModel | undefined;
  /** Re-reads parse only the documents that changed. */
  private readonly reader = new MeshFileReader();
  private digest = '';
  private lastProblems: readonly FileProblem[] = [];
  private acceptedAt: string | undefined;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  /** When the change the next read answers was noticed (performance.now()). */
  private changeSeenAt: number | undefined;

  constructor(options: { path: string; log: Logger; settings?: ModelSettings; metrics?: RegistryMetrics }) {
    this.path = resolve(options.path);
    this.log = options.log.child({ registry: 'file', path: this.path });
    this.settings = options.settings;
    this.metrics = options.metrics;
  }

  async start(): Promise<MeshModel> {
    const text = await readFile(this.path, 'utf8');
    const result = this.reader.read(text, basename(this.path), this.settings);
    if (!result.ok) throw new InvalidMeshFileError(result.problems);
    this.accept(result.model, text, result.documents, undefined);
    // Watch the directory: editors and atomic writers replace the file, which ends a watch on it.
    this.watcher = watch(dirname(this.path), (_event, name) => {
      if (name === null || name === basename(this.path)) this.scheduleRead();
    });
    this.watcher.on('error', (error) => this.log.warn({ err: error }, 'file watch failed; polling continues'));
    this.poller = setInterval(() => this.scheduleRead(), POLL_MS);
    this.poller.unref();
    return result.model;
  }

  current(): MeshModel {
    if (!this.model) throw new Error('registry not started');
    return this.model;
  }

  onModel(listener: (model: MeshModel) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): RegistryStatus {
    return { source: `file:${this.path}`, acceptedAt: this.acceptedAt, rejected: this.lastProblems.map(formatFileProblem) };
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.settle);
  }

  private scheduleRead(): void {
    this.changeSeenAt ??= performance.now();
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.reading = this.reading.then(() => this.reread()).catch((error: unknown) => this.log.error({ err: error }, 'reading the mesh file failed'));
    }, SETTLE_MS);
  }

  private async reread(): Promise<void> {
    // Changes noticed from here on are answered by the next read.
    const changeSeenAt = this.changeSeenAt;
    this.changeSeenAt = undefined;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      this.log.error({ err: error }, 'mesh file unreadable; keeping the last good configuration');
      return;
    }
    if (sha256(text) === this.digest) return;
    const result = this.reader.read(text, basename(this.path), this.settings);
    if (!result.ok) {
      this.digest = sha256(text);
      this.lastProblems = result.problems;
      this.log.error({ problems: result.problems.map(formatFileProblem) }, 'mesh file change refused; keeping the last good configuration');
      this.metrics?.updateRefused();
      return;
    }
    this.accept(result.model, text, result.documents, changeSeenAt);
    for (const listener of this.listeners) listener(result.model);
  }

  private accept(model: MeshModel, text: string, documents: number, changeSeenAt: number | undefined): void {
    this.model = model;
    this.digest = sha256(text);
    this.lastProblems = [];
    this.acceptedAt = new Date().toISOString();
    this.log.info({ documents, services: model.services.size, workloads: model.workloads.size }, 'mesh file accepted');
    this.metrics?.modelAccepted(changeSeenAt);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
