import { execFile } from 'node:child_process';
import { RctlError } from '../../errors.js';

/** What iptables printed when it failed (its exit status is 1 for "no such rule/chain" and for real failures alike). */
export class IptablesFailed extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`iptables ${args.join(' ')}: ${stderr.trim()}`);
  }
}

/** How long one iptables call may take; -w waits for the xtables lock that long at most. */
const TIMEOUT_MS = 10_000;

/**
 * Run `iptables -w <args>` (no shell: arguments go to the binary as they are) and return stdout.
 * A missing binary, missing privileges or a kernel without the filter table are NO_IPTABLES
 * (environment); any other refusal is an IptablesFailed for the caller to judge ("no such rule" is
 * fine when healing).
 */
export function iptables(args: readonly string[], binary = process.env.RCTL_IPTABLES ?? 'iptables'): Promise<string> {
  const argv = ['-w', String(TIMEOUT_MS / 1000), ...args];
  return new Promise((resolve, reject) => {
    execFile(binary, argv, { timeout: TIMEOUT_MS + 2000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new RctlError('NO_IPTABLES', `${binary} was not found on PATH: rctl cuts traffic between nodes with netfilter rules.`, { cause: err }));
      if (/Permission denied|must be root|Operation not permitted/i.test(stderr)) {
        return reject(new RctlError('NO_IPTABLES', `${binary} was refused: changing netfilter rules needs root (or CAP_NET_ADMIN).`, { cause: err }));
      }
      if (/can't initialize iptables table|Table does not exist/i.test(stderr)) {
        return reject(new RctlError('NO_IPTABLES', `${binary} cannot reach the kernel's filter table: ${stderr.trim()}`, { cause: err }));
      }
      reject(new IptablesFailed(args, stderr || String(err)));
    });
  });
}

/** `iptables -S` output split into argument vectors ("-A INPUT -s 127.0.0.21/32 -j DROP" -> ['-A', 'INPUT', ...]); quoted words kept whole. */
export function parseRules(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!)));
}
