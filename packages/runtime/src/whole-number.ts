// Counts in flags and settings: a positive whole number, written plainly ("100", not "1e2").

/** The number; throws an error naming `what` for anything else. */
export function parsePositiveInteger(text: string, what: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value <= 0) throw new Error(`${what} must be a positive whole number, got "${text}"`);
  return value;
}
