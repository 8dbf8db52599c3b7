// Errors from @kubernetes/client-node, made fit for logs: the HTTP status and the API server's
// own message, never request headers or bodies (which may carry credentials).

/** The HTTP status of a failed API call (ApiException.code, or statusCode on watch errors). */
export function statusCode(error: unknown): number | undefined {
  const record = error as { code?: unknown; statusCode?: unknown };
  if (typeof record.statusCode === 'number') return record.statusCode;
  return typeof record.code === 'number' ? record.code : undefined;
}

/** What went wrong, in one line. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const record = error as Error & { cause?: unknown; body?: unknown };
  const status = statusCode(error);
  // client-node's ApiException carries the API server's Status object as JSON text.
  const message = statusMessage(record.body) ?? error.message.split('\n')[0] ?? '';
  const cause = record.cause instanceof Error ? `: ${(record.cause as Error & { code?: string }).code ?? record.cause.message}` : '';
  return `${status === undefined ? '' : `HTTP ${status} `}${message.slice(0, 300)}${cause}`;
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as { kind?: unknown; message?: unknown };
    return parsed.kind === 'Status' && typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
