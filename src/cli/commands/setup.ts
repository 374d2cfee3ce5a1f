import type { Command } from 'commander';
import { runSetupScript, setupScriptPath } from '../../provision/setup-script.js';
import { runCommand } from '../run.js';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('install what rctl needs (Docker, redis-server, a Redis image); idempotent, needs root or sudo to install')
    .option('--json', 'machine-readable output (the script\'s own output goes to stderr)')
    .action((flags: { json?: boolean }) =>
      runCommand(flags, async (ctx) => {
        await runSetupScript({ outputFd: ctx.json ? 2 : 1, signal: ctx.signal });
        return { data: { script: setupScriptPath() }, human: 'rctl is ready: Docker answers, redis-server is installed and a Redis image is present.' };
      }),
    );
}
