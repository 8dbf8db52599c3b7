// Applying the nat table through iptables-save and iptables-restore: the whole table is read,
// Weft's part replaced, and written back in one atomic restore.
import { spawn } from 'node:child_process';

export interface IptablesCommands {
  readonly save: string;
  readonly restore: string;
}

export const IPTABLES: IptablesCommands = { save: 'iptables-save', restore: 'iptables-restore' };

function run(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`))));
    child.stdin?.end(input);
  });
}

export function saveNatTable(commands: IptablesCommands = IPTABLES): Promise<string> {
  return run(commands.save, ['-t', 'nat']);
}

export async function restoreTables(text: string, commands: IptablesCommands = IPTABLES): Promise<void> {
  await run(commands.restore, [], text);
}
