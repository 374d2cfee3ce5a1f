import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { RCTL_VERSION } from '../version.js';
import { registerCheck } from './commands/check.js';
import { registerCreate } from './commands/create.js';
import { registerDestroy } from './commands/destroy.js';
import { registerInfo } from './commands/info.js';
import { registerLs } from './commands/ls.js';
import { registerSlot } from './commands/slot.js';
import { registerReshard } from './commands/reshard.js';
import { registerRebalance } from './commands/rebalance.js';
import { registerApply } from './commands/apply.js';
import { registerFix } from './commands/fix.js';
import { registerAddNode } from './commands/add-node.js';
import { registerDelNode } from './commands/del-node.js';
import { registerReplica } from './commands/replica.js';
import { registerScale } from './commands/scale.js';
import { registerFailover } from './commands/failover.js';
import { registerSentinel } from './commands/sentinel.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('rctl')
    .description('Provision and operate Redis Cluster and Sentinel: plan, show the plan, execute, check between every step.')
    .version(RCTL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCreate(program);
  registerLs(program);
  registerInfo(program);
  registerCheck(program);
  registerSlot(program);
  registerDestroy(program);
  registerReshard(program);
  registerRebalance(program);
  registerApply(program);
  registerFix(program);
  registerAddNode(program);
  registerDelNode(program);
  registerReplica(program);
  registerScale(program);
  registerFailover(program);
  registerSentinel(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message; help and --version are not errors.
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      process.exit(ok ? ExitCode.ok : ExitCode.usage);
    }
    throw err;
  }
}
