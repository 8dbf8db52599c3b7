// What each `weft ca` subcommand is, and the error that means "the command line is wrong"
// (exit 2 and the usage) rather than "the operation failed" (exit 1).

export interface Output {
  write(text: string): unknown;
}

export interface Subcommand {
  readonly usage: string;
  run(args: string[], stdout: Output): Promise<number>;
}

export class UsageError extends Error {}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}
