import type { Command } from 'commander';
import { destroyCluster } from '../../index.js';
import { outputOptions } from '../options.js';
import { runCommand } from '../run.js';
import { DEFAULT_NAME, opts, orDeclined } from '../target.js';

export function registerDestroy(program: Command): void {
  outputOptions(program.command('destroy').description('remove a cluster rctl created: its containers or processes and their data').option('--name <name>', 'cluster name', DEFAULT_NAME)).action(
    (flags: { name?: string; json?: boolean; yes?: boolean }) =>
      runCommand(flags, (ctx) =>
        orDeclined(
          async () => {
            const d = await destroyCluster(flags.name ?? DEFAULT_NAME, opts(ctx));
            if (d.halfCreated) {
              return {
                data: { destroyed: true, name: d.name, nodes: d.nodes, halfCreated: true },
                human: `Destroyed cluster "${d.name}", which an interrupted create had left half-created (${d.nodes} node(s) and their data removed).`,
              };
            }
            return { data: { destroyed: true, name: d.name, nodes: d.nodes }, human: `Destroyed cluster "${d.name}" (${d.what} and their data removed).` };
          },
          { destroyed: false },
          'Nothing removed.',
        ),
      ),
  );
}
