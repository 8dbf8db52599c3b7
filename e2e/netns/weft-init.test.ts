// weft-init in real network namespaces: what it captures and what it leaves alone, that running
// it twice changes nothing, that other rules in the table survive, and that --cleanup removes
// exactly its own. Skipped, with the reason printed, where namespaces cannot be made.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ManagedProcess } from '@weft/cli';
import { exclusiveNetnsTests, NamespaceSet, netnsUnavailable, removeStaleNamespaces } from './namespaces.ts';

const unavailable = netnsUnavailable();
if (unavailable) process.stdout.write(`# skipped: ${unavailable}\n`);

const WEFT_INIT = fileURLToPath(import.meta.resolve('@weft/init/main'));
const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
const NODE = process.execPath;
const FOREIGN_RULE = '-A OUTPUT -d 198.18.99.99/32 -p tcp -j DNAT --to-destination 198.18.0.3:8080';

describe('weft-init in a network namespace', { skip: unavailable }, () => {
  const namespaces = new NamespaceSet();
  const processes: ManagedProcess[] = [];
  let pod: string;
  let peer: string;

  const weftInit = (...args: string[]) => namespaces.exec(pod, NODE, [WEFT_INIT, ...args]);
  const natTable = async () => (await namespaces.exec(pod, 'iptables-save', ['-t', 'nat'])).split('\n').filter((line) => line.startsWith('-A') || line.startsWith(':')).map((line) => line.replace(/ \[\d+:\d+\]$/, ''));
  /** What a connection from the pod (as `uid`, root by default) to host:port gets back. */
  const connectFrom = (namespace: string, host: string, port: number, uid?: number) =>
    namespaces.exec(namespace, uid === undefined ? NODE : 'setpriv', uid === undefined ? [PROBE, 'connect', host, String(port)] : [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', NODE, PROBE, 'connect', host, String(port)]).then((out) => out.trim());

  async function listen(namespace: string, port: number, label: string): Promise<void> {
    const probe = new ManagedProcess(label, PROBE, ['listen', String(port), label], { prefix: ['ip', 'netns', 'exec', namespace] });
    processes.push(probe);
    await probe.listening(label);
  }

  let release: (() => void) | undefined;

  before(async () => {
    release = await exclusiveNetnsTests();
    await removeStaleNamespaces();
    pod = await namespaces.add('pod');
    peer = await namespaces.add('peer');
    const link = await namespaces.veth(pod, peer);
    await namespaces.exec(pod, 'ip', ['addr', 'add', '198.18.0.2/24', 'dev', link.a]);
    await namespaces.exec(peer, 'ip', ['addr', 'add', '198.18.0.3/24', 'dev', link.b]);
    await namespaces.exec(pod, 'ip', ['link', 'set', link.a, 'up']);
    await namespaces.exec(peer, 'ip', ['link', 'set', link.b, 'up']);
    await namespaces.exec(pod, 'iptables', ['-t', 'nat', ...FOREIGN_RULE.split(' ')]);
    await Promise.all([listen(pod, 15001, 'outbound'), listen(pod, 15006, 'inbound'), listen(pod, 15021, 'health'), listen(pod, 9090, 'app'), listen(peer, 8080, 'server')]);
  });

  after(async () => {
    await Promise.all(processes.map((probe) => probe.stop()));
    await namespaces.removeAll();
    release?.();
  });

  it('--dry-run prints the rules and changes nothing', async () => {
    const before = await natTable();
    const printed = await weftInit('--dry-run', '--exclude-inbound-ports', '15021,15090');
    assert.match(printed, /^\*nat\n/);
    assert.match(printed, /-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports 15001/);
    assert.deepEqual(await natTable(), before);
  });

  it('captures outbound TCP to the proxy with its original destination, except the proxy’s own UID', async () => {
    await weftInit('--exclude-inbound-ports', '15021,15090');
    assert.equal(await connectFrom(pod, '198.18.0.3', 8080), 'outbound 198.18.0.3:8080');
    assert.equal(await connectFrom(pod, '198.18.0.3', 8080, 1337), 'server none', 'the proxy (UID 1337) reaches the server itself');
  });

  it('captures inbound TCP to the inbound port with the original port, except the excluded ports', async () => {
    assert.equal(await connectFrom(peer, '198.18.0.2', 9090), 'inbound 198.18.0.2:9090');
    assert.match(await connectFrom(peer, '198.18.0.2', 15021), /^health /, 'the health port is reached directly');
  });

  it('is idempotent, and leaves other rules in the table alone', async () => {
    const once = await natTable();
    await weftInit('--exclude-inbound-ports', '15021,15090');
    assert.deepEqual(await natTable(), once);
    assert.ok(once.includes(FOREIGN_RULE), 'the rule that was there before is still there');
  });

  it('honours excluded outbound ports and CIDRs, and an empty include list captures nothing', async () => {
    await weftInit('--exclude-outbound-ports', '8080');
    assert.equal(await connectFrom(pod, '198.18.0.3', 8080), 'server none');
    await weftInit('--exclude-outbound-cidrs', '198.18.0.0/24');
    assert.equal(await connectFrom(pod, '198.18.0.3', 8080), 'server none');
    await weftInit('--include-outbound-cidrs', '');
    assert.equal(await connectFrom(pod, '198.18.0.3', 8080), 'server none');
    await weftInit('--include-outbound-cidrs', '198.18.0.3/32');
    assert.equal(await connectFrom(pod, '198.18.0.3', 8080), 'outbound 198.18.0.3:8080');
  });

  it('--cleanup removes exactly its own chains and rules', async () => {
    await weftInit('--cleanup');
    const table = await natTable();
    assert.deepEqual(table.filter((line) => line.includes('WEFT_')), []);
    assert.ok(table.includes(FOREIGN_RULE));
    assert.equal(await connectFrom(pod, '198.18.0.3', 8080), 'server none');
  });

  it('refuses a malformed flag, naming it', async () => {
    await assert.rejects(weftInit('--exclude-outbound-cidrs', '10.0.0.0/33'), /--exclude-outbound-cidrs: "10\.0\.0\.0\/33" is not a CIDR/);
  });
});
