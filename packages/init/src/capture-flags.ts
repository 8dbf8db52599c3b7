// weft-init's flags as CaptureOptions, with an error naming the flag for anything malformed: a
// typo in an annotation must fail the pod's start, not silently capture the wrong traffic.
import { isIP } from 'node:net';
import type { CaptureOptions } from './capture-rules.ts';

export class CaptureFlagError extends Error {
  constructor(flag: string, problem: string) {
    super(`--${flag}: ${problem}`);
    this.name = 'CaptureFlagError';
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function port(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 65535) throw new CaptureFlagError(flag, `"${text}" is not a port (1-65535)`);
  return value;
}

function ports(flag: string, value: string | undefined): number[] {
  return [...new Set(list(value).map((item) => port(flag, item)))];
}

function cidrs(flag: string, value: string | undefined): string[] {
  return list(value).map((item) => {
    const [address = '', bits, extra] = item.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) throw new CaptureFlagError(flag, `"${item}" is not a CIDR (for example 10.96.0.0/12)`);
    if (family === 6) throw new CaptureFlagError(flag, `"${item}": IPv6 capture is not supported yet`);
    return bits === undefined ? `${address}/32` : item;
  });
}

export interface CaptureFlags {
  readonly 'proxy-uid': string;
  readonly 'inbound-capture-port': string;
  readonly 'outbound-capture-port': string;
  readonly 'exclude-inbound-ports'?: string;
  readonly 'exclude-outbound-ports'?: string;
  readonly 'exclude-outbound-cidrs'?: string;
  readonly 'include-outbound-cidrs'?: string;
}

export function captureOptions(flags: CaptureFlags): CaptureOptions {
  const uid = Number(flags['proxy-uid']);
  if (!/^\d+$/.test(flags['proxy-uid']) || uid === 0 || uid > 2 ** 31) throw new CaptureFlagError('proxy-uid', `"${flags['proxy-uid']}" is not a non-root UID`);
  const include = flags['include-outbound-cidrs'];
  return {
    proxyUid: uid,
    inboundCapturePort: port('inbound-capture-port', flags['inbound-capture-port']),
    outboundCapturePort: port('outbound-capture-port', flags['outbound-capture-port']),
    excludeInboundPorts: ports('exclude-inbound-ports', flags['exclude-inbound-ports']),
    excludeOutboundPorts: ports('exclude-outbound-ports', flags['exclude-outbound-ports']),
    excludeOutboundCidrs: cidrs('exclude-outbound-cidrs', flags['exclude-outbound-cidrs']),
    // "*" (Istio's spelling) or absent: everything; present and empty: nothing.
    includeOutboundCidrs: include === undefined || include.trim() === '*' ? undefined : cidrs('include-outbound-cidrs', include),
  };
}
