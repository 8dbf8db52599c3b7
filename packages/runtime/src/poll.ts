// Waiting on a condition with a deadline, for tests and tools that watch another process.

/** Calls `attempt` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(what: string, timeoutMs: number, attempt: () => T | undefined | Promise<T | undefined>, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error as Error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
