// Waits until a new upstream socket can carry bytes: TCP connected, or for TLS the handshake
// (and the peer's verification) done. A connect that takes longer than the cluster allows is
// cut and reported as a connect timeout, which the proxy answers as a connect failure (UF).
import type { Socket } from 'node:net';

export const CONNECT_TIMEOUT_CODE = 'UND_ERR_CONNECT_TIMEOUT';

export function whenConnected(socket: Socket, options: { readonly secure: boolean; readonly timeoutMs: number; readonly address: string; readonly signal?: AbortSignal }): Promise<Socket> {
  const { secure, timeoutMs, address, signal } = options;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connect to ${address} timed out after ${timeoutMs}ms`), { code: CONNECT_TIMEOUT_CODE })), timeoutMs);
    const onAbort = (): void => {
      socket.destroy(new Error(`connect to ${address} abandoned: the request was aborted`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // Kept after the connect, so an error before the caller listens cannot crash the process.
    socket.once('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(socket);
    });
  });
}
