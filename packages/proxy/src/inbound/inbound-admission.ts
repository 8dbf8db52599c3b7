// Whether an inbound request or tunnel may reach the workload, and on which application port:
// the port comes from weft-target-port (set by a peer sidecar connecting directly), or from the
// connection's original destination (transparent capture), or is the workload's only port, and
// must be one the control plane declared — so the sidecar never opens
// other local ports (such as ones bound to localhost only) to callers. Then STRICT mTLS, then
// the AccessPolicies.
import type { ConfigStore } from '../config/config-store.ts';
import type { InboundListenerConfig } from '../config/resources/listener.ts';
import { ProxyError, ProxyErrorKind } from '../errors.ts';
import type { ConnectionInfo } from '../http/handler.ts';
import type { Authorizer } from './authorization.ts';

export interface InboundAttempt {
  /** The port a peer sidecar named, if any. */
  readonly namedPort: string | undefined;
  readonly connection: ConnectionInfo;
  /** Empty for opaque TCP, which has neither. */
  readonly method: string;
  readonly path: string;
}

export class InboundAdmission {
  private readonly store: ConfigStore;
  private readonly authorizer: Authorizer;
  private readonly workload: string;
  private ports = new Map<number, InboundListenerConfig>();

  constructor(store: ConfigStore, authorizer: Authorizer, workload: string) {
    this.store = store;
    this.authorizer = authorizer;
    this.workload = workload;
    store.onChange((kind) => {
      if (kind === 'listener') this.ports = new Map([...store.values('listener').values()].map((listener) => [listener.port, listener]));
    });
  }

  /** The listener the attempt is for; throws NCFG, NR, MTLS or RBAC. */
  admit(attempt: InboundAttempt): InboundListenerConfig {
    if (this.store.version('listener') === '') throw new ProxyError(ProxyErrorKind.NO_CONFIG, 'no configuration received from the control plane yet');
    const { namedPort, connection } = attempt;
    const port = namedPort !== undefined ? Number(namedPort) : (connection.originalDestination?.port ?? (this.ports.size === 1 ? this.ports.keys().next().value : undefined));
    const listener = port === undefined ? undefined : this.ports.get(port);
    if (!listener) {
      const which = port === undefined ? 'no application port named' : `port ${port} is not a port of ${this.workload}`;
      throw new ProxyError(ProxyErrorKind.NO_ROUTE, `inbound: ${which} (ports: ${[...this.ports.keys()].join(', ') || 'none'})`);
    }
    if (listener.tlsMode === 'STRICT' && !connection.mtls) throw new ProxyError(ProxyErrorKind.MTLS_REQUIRED, `port ${listener.port} accepts mutual TLS only`);
    const query = attempt.path.indexOf('?');
    const decision = this.authorizer.decide({
      principal: connection.peer?.spiffeId,
      namespace: connection.peer?.namespace,
      method: attempt.method,
      path: query === -1 ? attempt.path : attempt.path.slice(0, query),
      port: listener.port,
    });
    if (!decision.allowed) throw new ProxyError(ProxyErrorKind.ACCESS_DENIED, `access denied: ${decision.reason}`);
    return listener;
  }
}
