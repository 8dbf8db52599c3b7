// The one error type of the CA. Codes are stable API: the CA service maps them to gRPC
// statuses and the CLI prints the message. Messages never carry key material, CSR text or a
// stack of the underlying library.

export type CaErrorCode =
  | 'WEFT_ERR_CSR_MALFORMED'
  | 'WEFT_ERR_CSR_TOO_LARGE'
  | 'WEFT_ERR_CSR_WEAK_KEY'
  | 'WEFT_ERR_CSR_BAD_SIGNATURE'
  | 'WEFT_ERR_CSR_IDENTITY_MISMATCH'
  | 'WEFT_ERR_CA_KEY_PERMISSIONS'
  | 'WEFT_ERR_CA_FILES'
  | 'WEFT_ERR_CA_EXPIRED'
  | 'WEFT_ERR_TTL'
  | 'WEFT_ERR_IDENTITY'
  | 'WEFT_ERR_SAN'
  | 'WEFT_ERR_CERT_MALFORMED';

export class CaError extends Error {
  readonly code: CaErrorCode;
  constructor(code: CaErrorCode, message: string) {
    super(message);
    this.name = 'CaError';
    this.code = code;
  }
}

/** Quotes an untrusted value for a message: escapes control characters, bounds the length. */
export function quoteUntrusted(value: string, maxLength = 200): string {
  const bounded = value.length > maxLength ? `${value.slice(0, maxLength)}…` : value;
  return JSON.stringify(bounded);
}
