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

  private eject(endpoint: EndpointState): void {
    const ejected = this.endpoints.filter((candidate) => candidate.health.ejectedUntil !== undefined).length;
    // Envoy always allows one ejection, even when maxEjectionPercent rounds down to zero.
    if (ejected > 0 && ((ejected + 1) * 100) / Math.max(1, this.endpoints.length) > this.settings.maxEjectionPercent) return;
    const health = endpoint.health;
    health.ejections++;
    health.ejectedUntil = this.now() + this.settings.baseEjectionMs * health.ejections;
    this.ejectionsTotal++;
  }

  /**
   * Returns endpoints whose ejection has run out. An interval without ejection and without a
   * failure forgives one past ejection, so only repeat offenders stay out longer and longer.
   */
  private review(): void {
    const now = this.now();
    for (const endpoint of this.endpoints) {
      const health = endpoint.health;
      if (health.ejectedUntil !== undefined) {
        if (health.ejectedUntil <= now) {
          health.ejectedUntil = undefined;
          health.consecutive5xx = 0;
          health.consecutiveGateway = 0;
        }
      } else if (health.ejections > 0 && !health.failedSinceReview) {
        health.ejections--;
      }
      health.failedSinceReview = false;
    }
  }
}
