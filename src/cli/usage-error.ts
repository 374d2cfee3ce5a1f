import type { Command, CommanderError } from 'commander';
import { RctlError } from '../errors.js';
import { commandPath } from './schema.js';

/**
 * Commander's parser errors ("error: unknown option '--foo'\n(Did you mean --force?)") turned into
 * rctl's usage errors: one sentence naming the flag and the value, a hint, exit 2, and the same
 * --json document as every other error. Commander's own printing is switched off (main.ts).
 */
export function usageErrorFromCommander(err: CommanderError, cmd: Command): RctlError {
  const path = commandPath(cmd);
  const full = path ? `rctl ${path}` : 'rctl';
  const help = `\`${full} --help\` lists its ${cmd.commands.length > 0 ? 'commands' : 'options'}.`;
  const [first = '', ...rest] = err.message.replace(/^error:\s*/, '').split('\n');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join(' '))?.[1];
  const hint = suggestion ? `Did you mean ${suggestion}? ${help}` : help;
  const usage = (m: string): RctlError => new RctlError('USAGE', m, { hint });
  let m: RegExpExecArray | null;
  switch (err.code) {
    case 'commander.unknownOption':
      if ((m = /^unknown option '(.*)'/.exec(first))) return usage(`${full} has no option ${m[1]}.`);
      break;
    case 'commander.unknownCommand':
      if ((m = /^unknown command '(.*)'/.exec(first))) return usage(`${full} has no command "${m[1]}".`);
      break;
    case 'commander.missingArgument':
      if ((m = /^missing required argument '(.*)'/.exec(first))) return new RctlError('USAGE', `${full} needs the argument <${m[1]}>.`, { hint: `Usage: ${full} ${cmd.usage()}. ${help}` });
      break;
    case 'commander.optionMissingArgument':
      if ((m = /^option '(.*)' argument missing/.exec(first))) return usage(`${longFlag(m[1]!)} needs a value (${m[1]}).`);
      break;
    case 'commander.missingMandatoryOptionValue':
      if ((m = /^required option '(.*)' not specified/.exec(first))) return usage(`${longFlag(m[1]!)} is required (${m[1]}).`);
      break;
    case 'commander.excessArguments':
      if ((m = /^too many arguments.*Expected (\d+) arguments? but got (\d+)/.exec(first))) {
        const expected = Number(m[1]);
        return new RctlError('USAGE', `${full} takes ${expected === 0 ? 'no arguments' : `${expected} argument${expected === 1 ? '' : 's'}`}, got ${m[2]}.`, { hint: `Usage: ${full} ${cmd.usage()}. ${help}` });
      }
      break;
    case 'commander.invalidArgument':
      // Option values: "option '<flags>' argument '<value>' is invalid. <why>", the why from
      // .choices() ("Allowed choices are a, b.") or from a parser of parse.ts ("must be ..., got ...").
      if ((m = /^option '(.*?)' argument '(.*)' is invalid\. (.*)$/s.exec([first, ...rest].join('\n')))) {
        const flag = longFlag(m[1]!);
        const [why = '', own] = m[3]!.split('\nhint: ');
        const allowed = /^Allowed choices are (.*)\.$/.exec(why)?.[1];
        const sentence = allowed ? `${flag} must be one of ${allowed}, got "${m[2]}".` : `${flag} ${sentenceEnd(why)}`;
        return own ? new RctlError('USAGE', sentence, { hint: `${sentenceEnd(own)} ${help}` }) : usage(sentence);
      }
      break;
  }
  return usage(sentenceEnd(first.charAt(0).toUpperCase() + first.slice(1)));
}

/** "--port-base <port>" -> "--port-base". */
const longFlag = (flags: string): string => flags.split(/[ ,|]+/).find((t) => t.startsWith('--')) ?? flags.split(/[ ,]+/)[0] ?? flags;

const sentenceEnd = (s: string): string => (/[.?!]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);

/**
 * The (sub)command argv names, so errors and hints can say `rctl sentinel create`. Options before a
 * command word are that level's (commander parses `rctl --json check` as an option of rctl), so the
 * walk stops at the first option.
 */
export function commandOf(program: Command, args: readonly string[]): Command {
  let cmd = program;
  for (const a of args) {
    if (a.startsWith('-')) break;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    cmd = sub;
  }
  return cmd;
}

/** --json anywhere before a `--` asks for a JSON document, also for errors found while parsing. */
export const wantsJson = (args: readonly string[]): boolean => {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
};
