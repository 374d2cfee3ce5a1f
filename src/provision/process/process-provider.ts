import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RctlError } from '../../errors.js';
import type { EventSink } from '../../events.js';
import { clustersDir, nodeDir } from '../../state/paths.js';
import type { NodeRecord } from '../../state/records.js';
import { sleep } from '../../util/abort.js';
import { assertPortsFree } from '../ports.js';
import type { FaultMode, ProvisionRequest, ProvisionedNode, Provider } from '../provider.js';
import { redisSettings, toConfigFile } from '../redis-args.js';

/**
 * Each node is a `redis-server` process from PATH with its own directory (config, data, log) under
 * the state directory. Processes are detached: they outlive rctl like containers do.
 */
export class ProcessProvider implements Provider {
  readonly kind = 'process' as const;

  constructor(private readonly binary = 'redis-server') {}

  async preflight(req: ProvisionRequest, onEvent: EventSink): Promise<void> {
    const v = spawnSync(this.binary, ['--version'], { encoding: 'utf8' });
    if (v.error || v.status !== 0) {
      throw new RctlError('NO_REDIS_SERVER', `${this.binary} was not found on PATH.`, {
        hint: 'Install it (`rctl setup`, or apt-get install redis-server), or use --provider docker.',
      });
    }
    onEvent({ type: 'note', message: v.stdout.trim().split(' ').slice(0, 3).join(' ') });
    if (req.network === 'bridge') throw new RctlError('USAGE', '--network bridge needs the docker provider.', { hint: 'Drop --network or use --provider docker.' });
    await assertPortsFree(req.host, req.nodes, req.cluster);
  }

  async start(req: ProvisionRequest): Promise<ProvisionedNode[]> {
    const started: NodeRecord[] = [];
    try {
      const machine = `host:${hostname()}`;
      const out: ProvisionedNode[] = [];
      for (const n of req.nodes) {
        const dir = req.role === 'sentinel' ? join(clustersDir(), req.cluster, `sentinel-${n.index}`) : nodeDir(req.cluster, n.index);
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true, mode: 0o700 });
        let args: string[];
        if (req.sentinelConfig) {
          const conf = join(dir, 'sentinel.conf');
          await writeFile(conf, `${req.sentinelConfig(n, dir)}logfile ${join(dir, 'redis.log')}\n`, { mode: 0o600 });
          args = [conf, '--sentinel'];
        } else {
          const settings = (req.settings ?? ((x, d) => redisSettings(req, x, d)))(n, dir);
          settings.push(['daemonize', 'no'], ['logfile', join(dir, 'redis.log')], ['pidfile', join(dir, 'redis.pid')]);
          const conf = join(dir, 'redis.conf');
          await writeFile(conf, toConfigFile(settings), { mode: 0o600 });
          args = [conf];
        }
        const child = spawnPrivate(this.binary, args, dir);
        if (child.pid === undefined) throw new Error(`could not start ${this.binary}`);
        child.unref();
        const record: NodeRecord = { index: n.index, host: n.host ?? req.host, port: n.port, busPort: n.busPort, pid: child.pid, dir };
        started.push(record);
        out.push({ ...record, machine });
      }
      return out;
    } catch (err) {
      await this.remove(req.cluster, started);
      throw new RctlError('PROVISION_FAILED', `Could not start redis-server: ${err instanceof Error ? err.message : String(err)}`, {
        hint: 'Nothing was left behind.',
      });
    }
  }

  async diagnose(node: NodeRecord): Promise<string | undefined> {
    if (node.pid !== undefined && (await isRedisProcess(node.pid))) {
      const state = await processState(node.pid);
      return state === 'T' ? `redis-server (pid ${node.pid}) is stopped (SIGSTOP)` : undefined;
    }
    const tail = node.dir ? await logTail(join(node.dir, 'redis.log'), 5) : '';
    return `redis-server (pid ${node.pid ?? '?'}) is not running${tail ? `; its last log lines:\n${tail}` : ''}`;
  }

  async remove(_cluster: string, nodes: readonly NodeRecord[]): Promise<void> {
    await Promise.all(
      nodes.map(async (n) => {
        if (n.pid !== undefined) await stopProcess(n.pid);
        if (n.dir) await rm(n.dir, { recursive: true, force: true });
      }),
    );
  }

  async fault(node: NodeRecord, mode: FaultMode): Promise<void> {
    if (node.pid === undefined || !(await isRedisProcess(node.pid))) throw new Error(`redis-server of node ${node.index} is not running`);
    process.kill(node.pid, mode === 'pause' ? 'SIGSTOP' : mode === 'kill' ? 'SIGKILL' : 'SIGTERM');
    if (mode !== 'pause') {
      for (let i = 0; i < 200 && (await isRedisProcess(node.pid)) && (await processState(node.pid)) !== 'Z'; i++) await sleep(25);
    }
  }

  async recover(node: NodeRecord, _mode: FaultMode): Promise<NodeRecord> {
    if (node.pid !== undefined && (await isRedisProcess(node.pid)) && (await processState(node.pid)) !== 'Z') {
      process.kill(node.pid, 'SIGCONT');
      return node;
    }
    // Start it again from its own directory and config: same id (nodes.conf), same data (AOF).
    if (!node.dir) throw new Error(`node ${node.index} has no directory to restart from`);
    const sentinel = node.dir.endsWith(`sentinel-${node.index}`);
    const args = sentinel ? [join(node.dir, 'sentinel.conf'), '--sentinel'] : [join(node.dir, 'redis.conf')];
    const child = spawnPrivate(this.binary, args, node.dir);
    if (child.pid === undefined) throw new Error(`could not restart ${this.binary}`);
    child.unref();
    return { ...node, pid: child.pid };
  }

  async purge(cluster: string, nodes: readonly NodeRecord[]): Promise<number> {
    await this.remove(cluster, nodes);
    // A create killed between starting its processes and recording them leaves processes that only
    // their pid files know of (each node writes one into its own directory).
    const orphans = await unrecordedPids(join(clustersDir(), cluster), nodes);
    await Promise.all(orphans.map(stopProcess));
    await rm(join(clustersDir(), cluster), { recursive: true, force: true });
    return nodes.length + orphans.length;
  }
}


/** Pids in each `<dir>/<node>/redis.pid` of redis-servers running in that node directory and not among `nodes`. */
async function unrecordedPids(dir: string, nodes: readonly NodeRecord[]): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const known = new Set(nodes.map((n) => n.pid));
  const out: number[] = [];
  for (const e of entries) {
    const pid = Number((await readFile(join(dir, e, 'redis.pid'), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0 || known.has(pid)) continue;
    // The pid may have been reused: it must be a redis-server whose working directory is this node's.
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== undefined && cwd === (await realpath(join(dir, e)).catch(() => '')) && (await isRedisProcess(pid))) out.push(pid);
  }
  return out;
}

/**
 * Start redis-server detached, its config named by path (never a password in its arguments), with
 * umask 077: the files it creates itself stay private to the owner. Sentinel rewrites sentinel.conf,
 * which holds auth-pass, at startup and on every state change, as a new file of mode 0644 & ~umask
 * (Redis 7.0 rewriteConfigOverwriteFile); AOF, RDB, nodes.conf and the log hold data. The child
 * inherits the umask at fork; rctl's own umask is put back at once.
 */
function spawnPrivate(binary: string, args: string[], cwd: string): ChildProcess {
  const previous = process.umask(0o077);
  try {
    return spawn(binary, args, { detached: true, stdio: 'ignore', cwd });
  } finally {
    process.umask(previous);
  }
}

/** Only signal a pid that still is a redis-server (pids get reused). */
async function isRedisProcess(pid: number): Promise<boolean> {
  try {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('redis-server') || cmd.includes('redis-sentinel');
  } catch {
    return false;
  }
}

async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** SIGCONT (it may be frozen), SIGTERM, then SIGKILL after 5 s. */
async function stopProcess(pid: number): Promise<void> {
  if (!(await isRedisProcess(pid))) return;
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGCONT');
  signal('SIGTERM');
  for (let i = 0; i < 100; i++) {
    if (!(await isRedisProcess(pid)) || (await processState(pid)) === 'Z') return;
    await sleep(50);
  }
  signal('SIGKILL');
}

async function logTail(file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
