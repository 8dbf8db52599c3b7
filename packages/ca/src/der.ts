// A minimal DER reader that hands out exact byte ranges. Signatures cover the original bytes
// (a CSR's CertificationRequestInfo) and chain building compares names byte for byte, so
// these are sliced from the input rather than re-encoded by an ASN.1 library.

export interface Tlv {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  readonly tag: number;
  /** The whole element: header and contents. */
  readonly bytes: Buffer;
  readonly contents: Buffer;
}

export class DerError extends Error {}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Reads the element starting at `offset`. */
export function readTlv(input: Buffer, offset = 0): Tlv {
  const tag = input[offset];
  const first = input[offset + 1];
  if (tag === undefined || first === undefined) throw new DerError('truncated');
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    // Four length octets cover anything this package accepts; 0x80 (indefinite) is BER, not DER.
    if (count === 0 || count > 4) throw new DerError('unsupported length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const octet = input[offset + 2 + i];
      if (octet === undefined) throw new DerError('truncated');
      length = length * 256 + octet;
    }
    if (length < 0x80 || (count > 1 && input[offset + 2] === 0)) throw new DerError('non-minimal length');
    header += count;
  }
  const end = offset + header + length;
  if (end > input.length) throw new DerError('truncated');
  return { tag, bytes: input.subarray(offset, end), contents: input.subarray(offset + header, end) };
}

/** Reads exactly one element that fills `input`. */
export function readSingle(input: Buffer): Tlv {
  const tlv = readTlv(input);
  if (tlv.bytes.length !== input.length) throw new DerError('trailing bytes');
  return tlv;
}

/** The elements inside a constructed element. */
export function children(parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < parent.contents.length;) {
    const child = readTlv(parent.contents, offset);
    out.push(child);
    offset += child.bytes.length;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv?.tag !== tag) throw new DerError(`${what}: unexpected element`);
  return tlv;
}
