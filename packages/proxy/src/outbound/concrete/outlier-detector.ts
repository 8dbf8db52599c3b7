// Outlier detection (Envoy's, as Istio configures it): an endpoint that answers with too many
// consecutive 5xx (or gateway errors: 502, 503, 504 and connection failures) is ejected for
// baseEjectionTime × the number of times it was ejected, unless that would eject more than
// maxEjectionPercent of the cluster. Ejections are reviewed every interval.
import type { OutlierSettings } from '../../config/resources/cluster.ts';
import type { EndpointState } from './balancers.ts';

export interface OutlierOutcome {
  /** HTTP status, or undefined when no response came (connect failure, reset, timeout). */
  readonly status: number | undefined;
}

export class OutlierDetector {
  private readonly settings: OutlierSettings;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private endpoints: readonly EndpointState[] = [];
  ejectionsTotal = 0;

  constructor(settings: OutlierSettings, now: () => number = Date.now) {
    this.settings = settings;
    this.now = now;
  }

  track(endpoints: readonly EndpointState[]): void {
    this.endpoints = endpoints;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.review(), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  record(endpoint: EndpointState, outcome: OutlierOutcome): void {
    this.returnIfDue(endpoint, this.now());
    const { status } = outcome;
    const gatewayError = status === undefined || status === 502 || status === 503 || status === 504;
    const serverError = status === undefined || status >= 500;
    const health = endpoint.health;
    if (serverError || gatewayError) health.failedSinceReview = true;
    health.consecutive5xx = serverError ? health.consecutive5xx + 1 : 0;
    health.consecutiveGateway = gatewayError ? health.consecutiveGateway + 1 : 0;
    const { consecutive5xx, consecutiveGatewayErrors } = this.settings;
    const tripped = (consecutive5xx > 0 && health.consecutive5xx >= consecutive5xx) || (consecutiveGatewayErrors > 0 && health.consecutiveGateway >= consecutiveGatewayErrors);
    if (tripped && health.ejectedUntil === undefined) this.eject(endpoint);
  }

  /** Ejected endpoints are skipped unless too few are healthy (panic: use them all). */
  usable(endpoints: readonly EndpointState[]): readonly EndpointState[] {
    const now = this.now();
    const healthy = endpoints.filter((endpoint) => endpoint.health.ejectedUntil === undefined || endpoint.health.ejectedUntil <= now);
    if (endpoints.length > 0 && (healthy.length * 100) / endpoints.length < this.settings.minHealthPercent) return endpoints;
    return healthy;
  }

  /** An ejection that has run out ends now, even between reviews. */
  private returnIfDue(endpoint: EndpointState, now: number): boolean {
    const health = endpoint.health;
    if (health.ejectedUntil === undefined || health.ejectedUntil > now) return false;
    health.ejectedUntil = undefined;
    health.consecutive5xx = 0;
    health.consecutiveGateway = 0;
    health.cleanSince = now;
    return true;
  }

  private eject(endpoint: EndpointState): void {
    const now = this.now();
    const ejected = this.endpoints.filter((candidate) => candidate.health.ejectedUntil !== undefined && candidate.health.ejectedUntil > now).length;
    // Envoy always allows one ejection, even when maxEjectionPercent rounds down to zero.
    if (ejected > 0 && ((ejected + 1) * 100) / Math.max(1, this.endpoints.length) > this.settings.maxEjectionPercent) return;
    const health = endpoint.health;
    health.ejections++;
    health.ejectedUntil = now + this.settings.baseEjectionMs * health.ejections;
    this.ejectionsTotal++;
  }

  /**
   * Returns endpoints whose ejection has run out. Each full interval an endpoint spends back in
   * rotation without a failure forgives one past ejection, so only repeat offenders stay out
   * longer and longer.
   */
  private review(): void {
    const now = this.now();
    for (const endpoint of this.endpoints) {
      const health = endpoint.health;
      if (health.ejectedUntil !== undefined) {
        this.returnIfDue(endpoint, now);
      } else if (health.failedSinceReview) {
        health.cleanSince = now;
      } else if (health.ejections > 0 && now - health.cleanSince >= this.settings.intervalMs) {
        health.ejections--;
        health.cleanSince = now;
      }
      health.failedSinceReview = false;
    }
  }
}
