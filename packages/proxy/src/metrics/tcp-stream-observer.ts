// What tunnels report about the TCP streams they carry (ProxyMetrics implements it).
import type { RequestContext } from '../http/handler.ts';
import type { SplicedBytes } from '../http/raw-http.ts';

export interface TcpStreamObserver {
  tcpOpen(context: RequestContext): void;
  tcpClose(context: RequestContext, bytes: SplicedBytes): void;
}
