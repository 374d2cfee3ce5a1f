import { Command, CommanderError } from 'commander';
import { ExitCode, RctlError } from '../errors.js';
import { RCTL_VERSION } from '../version.js';
import { registerCheck } from './commands/check.js';
import { registerConfig } from './commands/config.js';
import { registerCreate } from './commands/create.js';
import { registerDestroy } from './commands/destroy.js';
import { registerHeal } from './commands/heal.js';
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
import { exitWithError } from './run.js';
import { commandPath, setCurrentCommand } from './schema.js';
import { commandOf, usageErrorFromCommander, wantsJson } from './usage-error.js';
import { registerSetup } from './commands/setup.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('rctl')
    .description('Provision and operate Redis Cluster and Sentinel: plan, show the plan, execute, check between every step.')
    .version(RCTL_VERSION)
    // Parser errors are printed by main() as rctl errors (one sentence, hint, exit 2, --json
    // document); help text still goes where commander writes it. Set before any command is added:
    // subcommands copy these settings when they are created.
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true)
    .exitOverride()
    .hook('preAction', (_program, action) => setCurrentCommand(commandPath(action)));
  registerCreate(program);
  registerLs(program);
  registerInfo(program);
  registerCheck(program);
  registerSlot(program);
  registerDestroy(program);
  registerHeal(program);
  registerReshard(program);
  registerRebalance(program);
  registerApply(program);
  registerFix(program);
  registerConfig(program);
  registerAddNode(program);
  registerDelNode(program);
  registerReplica(program);
  registerScale(program);
  registerFailover(program);
  registerSentinel(program);
  registerSetup(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Asked-for help and --version are not errors.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0)) process.exit(ExitCode.ok);
      const args = argv.slice(2);
      const cmd = commandOf(program, args);
      // A command group without its command (`rctl`, `rctl sentinel`): commander printed the help on stderr.
      const e =
        err.code === 'commander.help'
          ? new RctlError('USAGE', `${['rctl', commandPath(cmd)].filter(Boolean).join(' ')} needs a command: ${cmd.commands.map((c) => c.name()).join(', ')}.`, { hint: 'The help above describes each of them.' })
          : usageErrorFromCommander(err, cmd);
      return exitWithError(e, wantsJson(args));
    }
    throw err;
  }
}
