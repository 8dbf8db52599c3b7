// CA settings with their defaults, checked once when a CA is loaded or created.
import { CaError } from './ca-error.ts';
import { assertTrustDomain } from './spiffe-id.ts';

export interface CaSettings {
  /** Default: the trust domain named in the CA certificate (spiffe://<td> URI SAN), else cluster.local. */
  readonly trustDomain?: string;
  /** TTL of an SVID when the caller asks for none. Default 86400 (24 h). */
  readonly defaultTtlSeconds?: number;
  /** Longest TTL issued; longer requests are capped to it. Default 604800 (7 days), or defaultTtlSeconds if longer. */
  readonly maxTtlSeconds?: number;
  /** Validity of a root this package generates. Default 3650 (10 years). */
  readonly rootTtlDays?: number;
}

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_TTL_SECONDS = 24 * 3600;
export const DEFAULT_MAX_TTL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_ROOT_TTL_DAYS = 3650;
/** Backdating of notBefore, for peers whose clocks run slightly behind. */
export const CLOCK_SKEW_MS = 60_000;

export interface Lifetimes {
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly rootTtlDays: number;
}

export function isPositiveWholeSeconds(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

export function resolveLifetimes(settings: CaSettings): Lifetimes {
  const defaultTtlSeconds = settings.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS;
  const maxTtlSeconds = settings.maxTtlSeconds ?? Math.max(DEFAULT_MAX_TTL_SECONDS, defaultTtlSeconds);
  const rootTtlDays = settings.rootTtlDays ?? DEFAULT_ROOT_TTL_DAYS;
  if (!isPositiveWholeSeconds(defaultTtlSeconds)) throw new CaError('WEFT_ERR_TTL', `defaultTtlSeconds must be a positive whole number of seconds, got ${defaultTtlSeconds}`);
  if (!isPositiveWholeSeconds(maxTtlSeconds)) throw new CaError('WEFT_ERR_TTL', `maxTtlSeconds must be a positive whole number of seconds, got ${maxTtlSeconds}`);
  if (defaultTtlSeconds > maxTtlSeconds) throw new CaError('WEFT_ERR_TTL', `defaultTtlSeconds (${defaultTtlSeconds}) exceeds maxTtlSeconds (${maxTtlSeconds})`);
  if (!(Number.isFinite(rootTtlDays) && rootTtlDays > 0)) throw new CaError('WEFT_ERR_TTL', `rootTtlDays must be a positive number of days, got ${rootTtlDays}`);
  return { defaultTtlSeconds, maxTtlSeconds, rootTtlDays };
}

export function resolveTrustDomain(configured: string | undefined, fromCertificate: string | undefined): string {
  const trustDomain = configured ?? fromCertificate ?? DEFAULT_TRUST_DOMAIN;
  assertTrustDomain(trustDomain);
  return trustDomain;
}
