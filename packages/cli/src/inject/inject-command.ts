// weft inject: adds the Weft sidecar to the pods and pod templates of Kubernetes manifests, for
// clusters without the webhook or for reviewing what it would do. The mutation is the
// webhook's own (injectManifest -> injectPod); this file only reads flags, files and streams.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { injectManifest, InjectionSettingsError, ManifestError, resolveInjectionSettings, type InjectionSettings, type ManifestInjection } from '@weft/controlplane';
import { replaceFile } from '../ca/replace-file.ts';
import { UsageError, type Output } from '../ca/subcommand.ts';

const USAGE = `usage: weft inject -f FILE [-o FILE] [options]

Adds the Weft sidecar (weft-init, and weft-proxy as a native sidecar) to every Pod and to the
pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers,
Jobs and CronJobs in a multi-document YAML manifest, exactly as the injection webhook would.
Other documents, and pods that opt out (weft.dev/inject: "false"), use the host network or
already have the sidecar, are written unchanged. What happened to each pod goes to stderr.

  -f, --filename FILE          the manifest to read; - for stdin (required)
  -o, --output FILE            where to write the result; default stdout
  --proxy-image IMAGE          the proxy's image (default: weft-proxy:<weft version>)
  --init-image IMAGE           weft-init's image (default: the proxy image)
  --controlplane-address HOST:PORT
                               the control plane's TLS port as pods reach it
                               (default weft-controlplane.weft-system.svc:15012)
  --trust-domain DOMAIN        default cluster.local
  --proxy-log-level LEVEL      default info

Example: weft inject -f app.yaml | kubectl apply -f -`;

export interface Input {
  setEncoding(encoding: 'utf8'): unknown;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

async function readAll(stream: Input): Promise<string> {
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

function settingsFrom(values: Record<string, string | undefined>): InjectionSettings {
  try {
    return resolveInjectionSettings({
      proxyImage: values['proxy-image'],
      initImage: values['init-image'],
      controlPlaneAddress: values['controlplane-address'],
      trustDomain: values['trust-domain'],
      logLevel: values['proxy-log-level'],
    });
  } catch (error) {
    if (error instanceof InjectionSettingsError) throw new UsageError(error.message);
    throw error;
  }
}

function describe(pod: ManifestInjection): string {
  const where = `document ${pod.document}, ${pod.object}${pod.podPath === '(document)' ? '' : ` ${pod.podPath}`}`;
  return pod.outcome === 'injected' ? `injected: ${where}` : `unchanged: ${where}: ${pod.reason ?? pod.outcome}`;
}

function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

async function inject(args: string[], stdout: Output, stderr: Output, stdin: Input): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      'proxy-image': { type: 'string' },
      'init-image': { type: 'string' },
      'controlplane-address': { type: 'string' },
      'trust-domain': { type: 'string' },
      'proxy-log-level': { type: 'string' },
    },
  });
  if (!values.filename) throw new UsageError('-f FILE is required (- reads stdin)');
  const settings = settingsFrom(values);
  const fromStdin = values.filename === '-';
  const manifest = fromStdin ? await readAll(stdin) : await readFile(values.filename, 'utf8');
  const result = injectManifest(manifest, fromStdin ? '(stdin)' : values.filename, settings);
  for (const pod of result.pods) stderr.write(`${describe(pod)}\n`);
  if (result.pods.length === 0) stderr.write('no pods or pod templates found; the manifest is written unchanged\n');
  if (values.output === undefined || values.output === '-') stdout.write(result.text);
  else await replaceFile(values.output, result.text, 0o644);
  return 0;
}

export const injectCommand = {
  summary: 'add the Weft sidecar to the pods in Kubernetes manifests, as the webhook does',
  usage: USAGE,
  async run(args: string[], stdout: Output = process.stdout, stderr: Output = process.stderr, stdin: Input = process.stdin): Promise<number> {
    try {
      return await inject(args, stdout, stderr, stdin);
    } catch (error) {
      const usage = isUsageError(error);
      const message = error instanceof ManifestError ? `cannot inject:\n${error.message}` : (error as Error).message;
      stderr.write(`weft inject: ${message}\n${usage ? `${USAGE}\n` : ''}`);
      return usage ? 2 : 1;
    }
  },
};
