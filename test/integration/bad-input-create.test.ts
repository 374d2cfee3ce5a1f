import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { dockerLeftovers, rctl, tempHome, type RunResult } from '../helpers/rctl.js';

// Ports 8201-8299 (bus +10000), cluster names h1-*: this file's share of the machine.
const home = tempHome();
const scratch = mkdtempSync(join(tmpdir(), 'rctl-h1-'));
const BIN = fileURLToPath(new URL('../../bin/rctl', import.meta.url));
const NO_DOCKER = 'unix:///nonexistent.sock';
const clusters = ['h1-main', 'h1-dk', 'h1-fb', 'h1-pa', 'h1-pb', 'h1-k', 'h1-other'];

afterAll(async () => {
  for (const name of clusters) await rctl(['destroy', '--name', name, '--yes'], { home });
  rmSync(home, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

/** One clear sentence + hint, the documented exit code, no stack trace, never "this is a bug". */
function expectCleanError(r: RunResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).toMatch(/^hint: /m);
  expect(r.stderr).not.toMatch(/\n\s+at .*\(/);
  expect(r.stderr).not.toMatch(/internal error|this is a bug/);
}

const recorded = (): string[] => {
  try {
    return readdirSync(join(home, 'clusters')).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
};

const lsRow = async (name: string): Promise<Record<string, unknown> | undefined> => {
  const ls = await rctl(['ls', '--json'], { home });
  expect(ls.code, ls.stderr).toBe(0);
  return (ls.json?.['clusters'] as Record<string, unknown>[]).find((c) => c['name'] === name);
};

/** The cells of a cluster's row in the `ls` table. */
const lsCells = async (name: string): Promise<string[]> => {
  const ls = await rctl(['ls'], { home });
  expect(ls.code, ls.stderr).toBe(0);
  const line = ls.stdout.split('\n').find((l) => l.includes(`│ ${name} `));
  return (line ?? '').split('│').map((c) => c.trim()).filter(Boolean);
};

/** True when nothing listens on (and nothing holds) host:port. */
const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });

/** Start `rctl create` in the background; resolves `reached` once stderr matches `until`. */
function createInBackground(args: string[], until: RegExp): { child: ChildProcess; reached: Promise<void>; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'create', ...args], { env: { ...process.env, RCTL_HOME: home, RCTL_IMAGE: inject('image'), CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let hit: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (hit = resolve));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (until.test(stderr)) hit();
  });
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, reached, done };
}

describe('create refuses bad input before anything starts (exit 2)', () => {
  it('a bus port in the ephemeral range: names the bus port, the limit and the highest --port-base', async () => {
    const r = await rctl(['create', '--name', 'h1-eph', '--provider', 'process', '--replicas', '0', '--port-base', '22766'], { home });
    expectCleanError(r, 2, /--port-base 22766 puts bus port 32768 \(node 3: port \+ 10000\) in Linux's ephemeral port range \(32768 and up\)/);
    expect(r.stderr).toMatch(/hint: Pick a lower --port-base: at most 22765 for 3 nodes\./);
    const six = await rctl(['create', '--name', 'h1-eph', '--provider', 'process', '--port-base', '30000'], { home });
    expectCleanError(six, 2, /puts bus port 40000 \(node 1: port \+ 10000\)/);
    expect(six.stderr).toMatch(/at most 22762 for 6 nodes/);
    expect(recorded()).toEqual([]);
  });

  it('a --name over 63 characters says the limit, for create and sentinel create', async () => {
    const long = `h1-${'x'.repeat(61)}`;
    const c = await rctl(['create', '--name', long, '--provider', 'process', '--replicas', '0', '--port-base', '8291'], { home });
    expectCleanError(c, 2, /--name "h1-x+…" is 64 characters long; names are at most 63\./);
    const s = await rctl(['sentinel', 'create', '--name', long, '--provider', 'process', '--replicas', '0', '--sentinels', '1', '--quorum', '1', '--port-base', '8291', '--sentinel-port-base', '8292'], { home });
    expectCleanError(s, 2, /--name "h1-x+…" is 64 characters long; names are at most 63\./);
    expect(recorded()).toEqual([]);
  });

  it('scale-out does not offer --seed, and says why when given one', async () => {
    const help = await rctl(['scale-out', '--help'], { home });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--name');
    expect(help.stdout).not.toContain('--seed');
    expect((await rctl(['scale-in', '--help'], { home })).stdout).toContain('--seed');
    const r = await rctl(['scale-out', '--seed', '127.0.0.1:8299', '--yes'], { home });
    expectCleanError(r, 2, /scale-out starts new nodes, which rctl can only do for clusters it created: pass --name, not --seed\./);
    expect(r.stderr).toContain('hint: On other clusters, start empty nodes yourself and use `rctl add-node --addr host:port`');
  });

  it('--out into a missing folder is refused before the cluster is even contacted', async () => {
    // 127.0.0.1:8299 answers nothing: reaching it would be exit 3, so exit 2 proves the order.
    for (const cmd of [['reshard', '--slots', '10', '--from', 'all', '--to', '127.0.0.1:8299'], ['rebalance']]) {
      const r = await rctl([...cmd, '--seed', '127.0.0.1:8299', '--dry-run', '--out', '/nonexistent/dir/plan.json'], { home });
      expectCleanError(r, 2, /--out \/nonexistent\/dir\/plan\.json: the folder \/nonexistent\/dir does not exist\./);
    }
    const dir = await rctl(['rebalance', '--seed', '127.0.0.1:8299', '--dry-run', '--out', scratch], { home });
    expectCleanError(dir, 2, /is a folder, not a file/);
  });

  it('rctl setup runs the packaged setup script; hints name `rctl setup`, not `npm run setup`', async () => {
    const r = await rctl(['setup'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^setup: ready$/m);
    const j = await rctl(['setup', '--json'], { home });
    expect(j.code, j.stderr).toBe(0);
    expect(j.json).toMatchObject({ ok: true });
    expect(j.stderr).toMatch(/^setup: ready$/m);
    const nobin = await rctl(['create', '--name', 'h1-nobin', '--provider', 'process', '--port-base', '8291'], { home, env: { PATH: '/nonexistent' } });
    expectCleanError(nobin, 5, /redis-server was not found on PATH/);
    expect(nobin.stderr).toContain('`rctl setup`');
    expect(nobin.stderr).not.toContain('npm run setup');
  });
});

describe('one cluster, many flags (process provider)', () => {
  const seed = '127.0.0.1:8202';

  it('creates h1-main', async () => {
    const c = await rctl(['create', '--name', 'h1-main', '--provider', 'process', '--replicas', '0', '--port-base', '8201'], { home });
    expect(c.code, c.stderr).toBe(0);
  });

  it('--name with --seed: --seed selects the cluster, a note on stderr says so (never on --json stdout)', async () => {
    const r = await rctl(['info', '--name', 'h1-main', '--seed', seed], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--seed ${seed} selects the cluster; --name h1-main only supplies its record (password, nodes rctl started).`);
    const j = await rctl(['check', '--json', '--name', 'h1-main', '--seed', seed], { home });
    expect(j.code, j.stderr).toBe(0);
    expect(j.json).toMatchObject({ ok: true });
    expect(j.stdout).not.toContain('selects the cluster');
    const note = j.stderr.split('\n').filter((l) => l.includes('selects the cluster')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(note).toEqual([expect.objectContaining({ event: 'note', message: expect.stringContaining(`--seed ${seed} selects the cluster`) })]);
  });

  it('--name with a --seed that is not its node, or a --name rctl does not know: refused', async () => {
    const other = await rctl(['info', '--name', 'h1-main', '--seed', '127.0.0.1:8299'], { home });
    expectCleanError(other, 2, /--seed 127\.0\.0\.1:8299 is not a node of cluster "h1-main" \(its nodes: 127\.0\.0\.1:8201, 127\.0\.0\.1:8202, 127\.0\.0\.1:8203\)\./);
    const unknown = await rctl(['info', '--name', 'h1-nope', '--seed', seed], { home });
    expectCleanError(unknown, 6, /rctl has no cluster named "h1-nope"\./);
    expect(unknown.stderr).toMatch(/hint: Drop --name to act on the cluster at 127\.0\.0\.1:8202/);
  });

  it('ls follows add-node and del-node: nodes and layout', async () => {
    expect(await lsRow('h1-main')).toMatchObject({ nodes: 3, masters: 3, replicas: 0, state: 'healthy' });
    expect(await lsCells('h1-main')).toEqual(['h1-main', 'cluster', 'process', '3', '3x0', '8201-8203', 'healthy']);
    const add = await rctl(['add-node', '--name', 'h1-main', '--json'], { home });
    expect(add.code, add.stderr).toBe(0);
    expect(add.json).toMatchObject({ address: '127.0.0.1:8204', role: 'master' });
    expect(await lsRow('h1-main')).toMatchObject({ nodes: 4, masters: 4, replicas: 0, ports: { first: 8201, last: 8204 } });
    expect(await lsCells('h1-main')).toEqual(['h1-main', 'cluster', 'process', '4', '4x0', '8201-8204', 'healthy']);
    // The record follows too (ls falls back to it when the cluster is down).
    expect(JSON.parse(readFileSync(join(home, 'clusters', 'h1-main.json'), 'utf8'))).toMatchObject({ masters: 4 });
    const rep = await rctl(['add-node', '--name', 'h1-main', '--replica-of', 'auto', '--json'], { home });
    expect(rep.code, rep.stderr).toBe(0);
    expect(await lsRow('h1-main')).toMatchObject({ nodes: 5, masters: 4, replicas: 1 });
    expect((await lsCells('h1-main')).slice(3, 5)).toEqual(['5', '4 masters, 1 replica']);
    for (const node of ['127.0.0.1:8205', '127.0.0.1:8204']) {
      const del = await rctl(['del-node', '--name', 'h1-main', node, '--yes'], { home });
      expect(del.code, del.stderr).toBe(0);
    }
    expect(await lsRow('h1-main')).toMatchObject({ nodes: 3, masters: 3, replicas: 0, ports: { first: 8201, last: 8203 } });
    expect(await lsCells('h1-main')).toEqual(['h1-main', 'cluster', 'process', '3', '3x0', '8201-8203', 'healthy']);
    expect(JSON.parse(readFileSync(join(home, 'clusters', 'h1-main.json'), 'utf8'))).toMatchObject({ masters: 3 });
  });

  it('--out onto an existing file: refused without a terminal unless --yes, which overwrites it', async () => {
    const file = join(scratch, 'plan.json');
    writeFileSync(file, 'keep me');
    const args = ['reshard', '--name', 'h1-main', '--slots', '10', '--from', 'all', '--to', '127.0.0.1:8201', '--dry-run', '--out', file];
    const r = await rctl(args, { home });
    expectCleanError(r, 2, new RegExp(`--out ${file.replace(/[.]/g, '\\.')} already exists\\.`));
    expect(r.stderr).toMatch(/hint: Pass --yes to overwrite it/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    const yes = await rctl([...args, '--yes'], { home });
    expect(yes.code, yes.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ rctlPlan: 1, kind: 'reshard' });
  });

  it('--out onto an existing file on a terminal: asks, and keeps the file when told no', async () => {
    const file = join(scratch, 'plan.json');
    writeFileSync(file, 'keep me');
    const cmd = `${process.execPath} ${BIN} reshard --name h1-main --slots 10 --from all --to 127.0.0.1:8201 --dry-run --out ${file}`;
    const env: NodeJS.ProcessEnv = { ...process.env, RCTL_HOME: home, RCTL_IMAGE: inject('image'), TERM: 'dumb' };
    delete env['CI'];
    // `script` gives rctl a pseudo-terminal; the answer is typed once the question shows.
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let answered = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!answered && out.includes('Overwrite it?')) {
        answered = true;
        child.stdin.write('n\r');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out).toContain(`${file} exists. Overwrite it?`);
    // Answering "no" is a decision, not bad input: the exit code of a declined confirmation.
    expect(code, out).toBe(ExitCode.declined);
    expect(out).toContain(`rctl: --out ${file} already exists; it was left as it is`);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });
});

describe('Docker unreachable (exit 5, NO_DOCKER), never an internal error', () => {
  it('destroy, add-node and del-node of a docker cluster say Docker does not answer; nothing changes', async () => {
    const c = await rctl(['create', '--name', 'h1-dk', '--provider', 'docker', '--replicas', '0', '--port-base', '8211'], { home });
    expect(c.code, c.stderr).toBe(0);
    const env = { DOCKER_HOST: NO_DOCKER };
    for (const args of [['destroy', '--name', 'h1-dk', '--yes'], ['add-node', '--name', 'h1-dk'], ['del-node', '--name', 'h1-dk', '127.0.0.1:8213', '--yes']]) {
      const r = await rctl(args, { home, env });
      expectCleanError(r, 5, /No Docker engine answers at unix:\/\/\/nonexistent\.sock\./);
      expect(r.stderr).toMatch(/hint: This cluster runs in Docker containers; start Docker \(`rctl setup` does\)/);
    }
    expect((await rctl(['check', '--name', 'h1-dk'], { home })).code).toBe(0);
    expect(await lsRow('h1-dk')).toMatchObject({ nodes: 3, provider: 'docker', state: 'healthy' });
    expect((await dockerLeftovers('h1-dk')).length).toBe(6);
    const d = await rctl(['destroy', '--name', 'h1-dk', '--yes'], { home });
    expect(d.code, d.stderr).toBe(0);
    expect(await dockerLeftovers('h1-dk')).toEqual([]);
  });

  it('plain create falls back to processes and says so', async () => {
    const r = await rctl(['create', '--name', 'h1-fb', '--replicas', '0', '--port-base', '8221'], { home, env: { DOCKER_HOST: NO_DOCKER } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('No Docker engine answers (unix:///nonexistent.sock); using --provider process.');
    expect(await lsRow('h1-fb')).toMatchObject({ provider: 'process', nodes: 3, state: 'healthy' });
    expect((await rctl(['destroy', '--name', 'h1-fb', '--yes'], { home })).code).toBe(0);
  });
});

describe('ports already in use name their holder (exit 5)', () => {
  let blocker: Server | undefined;
  afterAll(() => blocker?.close());

  it('a second create on the ports of one still forming, and of one that runs: "by cluster"', async () => {
    const first = createInBackground(['--name', 'h1-pa', '--provider', 'process', '--replicas', '0', '--port-base', '8231'], /✓ wait until every node answers PING/);
    await first.reached;
    const during = await rctl(['create', '--name', 'h1-pb', '--provider', 'process', '--replicas', '0', '--port-base', '8231'], { home });
    expectCleanError(during, 5, /Ports 8231, 18231, 8232, 18232, 8233, 18233 on 127\.0\.0\.1 are already in use \(by cluster "h1-pa"\)\./);
    expect(during.stderr).toMatch(/hint: .*`rctl destroy --name h1-pa`/);
    expect(during.stderr).not.toMatch(/firewall/i);
    const a = await first.done;
    expect(a.code, a.stderr).toBe(0);
    const after = await rctl(['create', '--name', 'h1-pb', '--provider', 'process', '--replicas', '0', '--port-base', '8232'], { home });
    expectCleanError(after, 5, /Ports 8232, 18232, 8233, 18233 on 127\.0\.0\.1 are already in use \(by cluster "h1-pa"\)\./);
    expect(recorded().sort()).toEqual(['h1-main.json', 'h1-pa.json']);
    expect((await rctl(['check', '--name', 'h1-pa'], { home })).code).toBe(0);
    expect((await rctl(['destroy', '--name', 'h1-pa', '--yes'], { home })).code).toBe(0);
  });

  it('a port some other program holds: "by another process"', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(8252, '127.0.0.1', r));
    const r = await rctl(['create', '--name', 'h1-pb', '--provider', 'process', '--replicas', '0', '--port-base', '8251'], { home });
    expectCleanError(r, 5, /^rctl: Port 8252 on 127\.0\.0\.1 is already in use \(by another process\)\.$/m);
    expect(recorded()).toEqual(['h1-main.json']);
  });
});

describe('a create killed outright (SIGKILL)', () => {
  it('is told apart from a running one; create says how to clean up, destroy removes everything', async () => {
    const args = ['--name', 'h1-k', '--provider', 'process', '--replicas', '0', '--port-base', '8241'];
    const first = createInBackground(args, /✓ start 3 nodes/);
    await first.reached;
    // Frozen, it still runs: a second create of the name must not call it interrupted.
    first.child.kill('SIGSTOP');
    const running = await rctl(['create', ...args], { home });
    expectCleanError(running, 6, new RegExp(`Cluster "h1-k" is being created right now by another rctl \\(pid ${first.child.pid}\\)\\.`));
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');

    expect(await lsRow('h1-k')).toMatchObject({ state: 'interrupted' });
    expect((await lsCells('h1-k')).at(-1)).toBe('half-created by an interrupted create: `rctl destroy --name h1-k` removes it');
    const again = await rctl(['create', ...args], { home });
    expectCleanError(again, 6, /Cluster "h1-k" was left half-created by an interrupted create \(started [0-9T:.Z-]+\)\./);
    expect(again.stderr).toContain('hint: Run `rctl destroy --name h1-k --yes` to remove what it had started, then create it again.');

    const d = await rctl(['destroy', '--name', 'h1-k', '--yes'], { home });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('Destroyed cluster "h1-k", which an interrupted create had left half-created (3 node(s) and their data removed).');
    for (const p of [8241, 8242, 8243, 18241, 18242, 18243]) expect(await portFree(p)).toBe(true);
    expect(existsSync(join(home, 'clusters', 'h1-k'))).toBe(false);
    expect(existsSync(join(home, 'clusters', 'h1-k.json'))).toBe(false);

    const fresh = await rctl(['create', ...args], { home });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await rctl(['destroy', '--name', 'h1-k', '--yes'], { home })).code).toBe(0);
  });
});
