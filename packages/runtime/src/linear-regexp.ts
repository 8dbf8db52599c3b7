// Regular expressions from configuration run against request data (paths, headers), so one must
// never backtrack for ever: `(a+)+$` against "aaaa…!" would stall a proxy. Istio answers with
// RE2; V8 has a linear-time engine for the same subset (no backreferences, no lookaround). Every
// pattern must fit that subset, and V8 moves a match to the linear engine once it backtracks too
// much, so ordinary patterns keep the fast backtracking engine.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Why `pattern` cannot be a configuration regex (ECMAScript syntax, RE2's subset), or undefined. */
export function linearRegExpProblem(pattern: string): string | undefined {
  try {
    // 'l' (linear) exists once the flag above is set; ESLint's rule does not know it.
    // eslint-disable-next-line no-invalid-regexp
    new RegExp(pattern, 'l');
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    if (message.endsWith('Cannot be executed in linear time')) return 'backreferences and lookaround are not supported (the RE2 subset, as in Istio), so matching takes linear time';
    // V8's message repeats the whole pattern, which may be any length.
    const prefix = `Invalid regular expression: /${pattern}/l: `;
    return message.startsWith(prefix) ? message.slice(prefix.length) : message.slice(0, 200);
  }
}

/**
 * Compiles a configuration regex that matches in linear time at worst.
 * @throws SyntaxError naming the problem (see linearRegExpProblem)
 */
export function compileLinearRegExp(pattern: string): RegExp {
  const problem = linearRegExpProblem(pattern);
  if (problem !== undefined) throw new SyntaxError(problem);
  return new RegExp(pattern);
}
