import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerLeftovers, exec, rctl, tempHome, type RunResult } from '../helpers/rctl.js';

// Secrets never visible: not in `docker inspect`, `docker ps --no-trunc`, `ps`, rctl's own output,
// nor in any file under RCTL_HOME that others could read; RCTL_HOME itself is private.
const root = tempHome();
const home = join(root, 'home'); // does not exist yet: rctl creates it, so its mode is rctl's doing
const pwFile = join(root, 'password');
const TOKEN = 'Zq7h2Tok';
// Spaces, quotes and a backslash: redis.conf must quote it the way Redis parses it.
const CLUSTER_PW = `${TOKEN} with space "q" \\ end`;
// Sentinel writes auth-pass back unquoted, so rctl refuses such characters for Sentinel groups.
const SENTINEL_PW = `${TOKEN}-s3nt!#`;

const DOCK = 'h2-dock'; // 3x1, docker, 8301-8306, password from RCTL_PASSWORD
const PROC = 'h2-proc'; // 3x1, process, 8311-8316, password from --password-file
const ANY = 'h2-any'; // 3x0, process, bound to 0.0.0.0 with a password, 8321-8323
const SPROC = 'h2-sproc'; // Sentinel group, process: data 8381-8383, Sentinels 28381-28383
const SDOCK = 'h2-sdock'; // Sentinel group, docker: data 8385-8386, Sentinels 28385-28387

/** Everything rctl printed (stdout and stderr of every run), checked for the password at the end. */
const seen: string[] = [];

async function run(args: string[], env: Record<string, string | undefined> = {}, timeoutMs?: number): Promise<RunResult> {
  const r = await rctl(args, { home, env: { RCTL_PASSWORD: undefined, ...env }, ...(timeoutMs ? { timeoutMs } : {}) });
  seen.push(`$ rctl ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** redis-cli with the password in REDISCLI_AUTH (never in its arguments), or with none. */
function redisCli(port: number, args: string[], password?: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['REDISCLI_AUTH'];
  if (password !== undefined) env['REDISCLI_AUTH'] = password;
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-p', String(port), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
  });
}

const containersOf = async (name: string): Promise<string[]> => (await dockerLeftovers(name)).filter((x) => !x.endsWith('-data')).sort();

/** Mode bits of a file inside a container, from the tar header `docker cp` streams (no shell in the image). */
async function modeInContainer(container: string, path: string): Promise<{ mode: number; content: string }> {
  const r = await exec('docker', ['cp', `${container}:${path}`, '-']);
  expect(r.code, r.stderr).toBe(0);
  return { mode: parseInt(r.stdout.slice(100, 107), 8) & 0o777, content: r.stdout.slice(512) };
}

/** Every file and directory under `dir` with its permission bits. */
function walk(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const st = lstatSync(p);
    out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
    if (st.isDirectory()) out.push(...walk(p));
  }
  return out;
}

/** Poll (bounded) until `rctl check` passes, e.g. after a node restarted. */
async function checkEventually(name: string, ms = 30_000): Promise<RunResult> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await run(['check', '--name', name, '--json']);
    if (r.code === 0 || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}

describe('secrets: passwords never visible, open binds refused, private state dir', () => {
  beforeAll(async () => {
    writeFileSync(pwFile, `${CLUSTER_PW}\n`, { mode: 0o600 });
    const creates: [string[], Record<string, string>][] = [
      [['create', '--name', DOCK, '--provider', 'docker', '--masters', '3', '--replicas', '1', '--port-base', '8301', '--json'], { RCTL_PASSWORD: CLUSTER_PW }],
      [['create', '--name', PROC, '--provider', 'process', '--masters', '3', '--replicas', '1', '--port-base', '8311', '--node-timeout', '1000', '--password-file', pwFile, '--json'], {}],
      [
        ['sentinel', 'create', '--name', SPROC, '--provider', 'process', '--replicas', '2', '--sentinels', '3', '--down-after', '1000', '--failover-timeout', '10000', '--port-base', '8381', '--sentinel-port-base', '28381', '--json'],
        { RCTL_PASSWORD: SENTINEL_PW },
      ],
      [['sentinel', 'create', '--name', SDOCK, '--provider', 'docker', '--replicas', '1', '--sentinels', '3', '--port-base', '8385', '--sentinel-port-base', '28385', '--json'], { RCTL_PASSWORD: SENTINEL_PW }],
    ];
    for (const [args, env] of creates) {
      const r = await run(args, env);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    for (const name of [DOCK, PROC, ANY]) await rctl(['destroy', '--name', name, '--yes'], { home });
    for (const name of [SPROC, SDOCK]) await rctl(['sentinel', 'destroy', '--name', name, '--yes'], { home });
    rmSync(root, { recursive: true, force: true });
  });

  it('create --host 0.0.0.0 without a password is refused: exit 2, one sentence, nothing started', async () => {
    const r = await run(['create', '--name', 'h2-open', '--provider', 'process', '--host', '0.0.0.0', '--replicas', '0', '--port-base', '8391']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'rctl: --host 0.0.0.0 without a password: the nodes would accept anyone on the network.\n' +
        'hint: Set a password (RCTL_PASSWORD or --password-file), bind to 127.0.0.1, or pass --allow-open if the network is trusted.\n',
    );
    const j = await run(['create', '--name', 'h2-open', '--provider', 'process', '--host', '10.1.2.3', '--replicas', '0', '--port-base', '8391', '--json']);
    expect(j.code).toBe(2);
    expect(j.json?.['error']).toMatchObject({ code: 'USAGE', exitCode: 2, message: '--host 10.1.2.3 without a password: the nodes would accept anyone on the network.' });
    const s = await run(['sentinel', 'create', '--name', 'h2-open', '--provider', 'process', '--host', '0.0.0.0', '--port-base', '8391', '--sentinel-port-base', '28391']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^rctl: --host 0\.0\.0\.0 without a password: the nodes would accept anyone on the network\.\n/);
    const ls = await run(['ls', '--json']);
    expect((ls.json?.['clusters'] as { name: string }[]).map((c) => c.name).sort()).toEqual([DOCK, PROC, SDOCK, SPROC].sort());
    expect(await redisCli(8391, ['ping'])).toMatch(/Connection refused/);
  });

  it('--password-file: both flags at once, or an unreadable file, are refused (exit 2) without echoing anything secret', async () => {
    const both = await run(['check', '--name', PROC, '--password', 'x', '--password-file', pwFile]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^rctl: --password and --password-file were both given\.\n/);
    const missing = await run(['check', '--name', PROC, '--password-file', join(root, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(new RegExp(`^rctl: --password-file ${join(root, 'nope')} cannot be read \\(ENOENT\\)\\.\\n`));
    // The file works for any command taking --name/--seed: a seed alone has no record to remember it.
    expect((await run(['check', '--seed', '127.0.0.1:8301'])).code).toBe(4);
    const viaFile = await run(['check', '--seed', '127.0.0.1:8301', '--password-file', pwFile, '--json']);
    expect(viaFile.code, viaFile.stdout + viaFile.stderr).toBe(0);
    // Sentinel commands take it too.
    expect((await run(['sentinel', 'status', '--name', SPROC, '--password-file', join(root, 'nope')])).stderr).toMatch(/^rctl: --password-file .* cannot be read \(ENOENT\)\.\n/);
    const sentFile = join(root, 'sentinel-password');
    writeFileSync(sentFile, `${SENTINEL_PW}\n`, { mode: 0o600 });
    const st = await run(['sentinel', 'status', '--name', SPROC, '--password-file', sentFile, '--json']);
    expect(st.code, st.stdout + st.stderr).toBe(0);
  });

  it.each([
    [DOCK, 8301],
    [PROC, 8311],
  ])('cluster %s works with its password and only with it', async (name, port) => {
    const check = await run(['check', '--name', name, '--json']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const info = await run(['info', '--name', name, '--json']);
    expect(info.code).toBe(0);
    expect((info.json?.['nodes'] as { role: string; link: string }[]).filter((n) => n.role === 'replica').map((n) => n.link)).toEqual(['up', 'up', 'up']);
    expect(await redisCli(port, ['-c', 'set', `h2:${name}`, 'v'], CLUSTER_PW)).toBe('OK');
    expect(await redisCli(port, ['-c', 'get', `h2:${name}`], CLUSTER_PW)).toBe('v');
    expect(await redisCli(port, ['ping'])).toMatch(/NOAUTH/);
  });

  it('Sentinel groups work with the password: status healthy, the master takes writes with it', async () => {
    for (const [name, port] of [
      [SPROC, 8381],
      [SDOCK, 8385],
    ] as const) {
      const st = await run(['sentinel', 'status', '--name', name, '--json']);
      expect(st.code, st.stdout + st.stderr).toBe(0);
      expect(await redisCli(port, ['set', 'h2:s', 'v'], SENTINEL_PW)).toBe('OK');
      expect(await redisCli(port, ['ping'])).toMatch(/NOAUTH/);
    }
  });

  it('Sentinel refuses a password it would write back unquoted (whitespace, quotes, backslash): exit 2', async () => {
    const r = await run(['sentinel', 'create', '--name', 'h2-bad', '--provider', 'process', '--port-base', '8388', '--sentinel-port-base', '28388', '--replicas', '0', '--sentinels', '1', '--quorum', '1'], { RCTL_PASSWORD: CLUSTER_PW });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rctl: A Sentinel group's password must not contain whitespace, quotes or backslashes\.\n/);
  });

  it('docker: the password is in no container\'s inspect output nor in `docker ps --no-trunc`; it lives in a 0600 file in the volume', async () => {
    const nodes = await containersOf(DOCK);
    expect(nodes).toEqual([1, 2, 3, 4, 5, 6].map((i) => `${DOCK}-node-${i}`));
    const sent = await containersOf(SDOCK);
    expect(sent).toEqual([`${SDOCK}-node-1`, `${SDOCK}-node-2`, `${SDOCK}-sentinel-1`, `${SDOCK}-sentinel-2`, `${SDOCK}-sentinel-3`]);
    const inspect = await exec('docker', ['inspect', ...nodes, ...sent]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('/data/redis.conf');
    expect(inspect.stdout).not.toContain(TOKEN);
    const ps = await exec('docker', ['ps', '--no-trunc']);
    expect(ps.stdout).toContain(`${DOCK}-node-1`);
    expect(ps.stdout).not.toContain(TOKEN);
    for (const c of [`${DOCK}-node-1`, `${SDOCK}-node-1`]) {
      const f = await modeInContainer(c, '/data/redis.conf');
      expect(f.mode).toBe(0o600);
      expect(f.content).toContain('requirepass "');
      expect(f.content).toContain(TOKEN);
    }
  });

  it('`ps -eo args` shows no password of any node or Sentinel', async () => {
    const ps = await exec('ps', ['-eo', 'args']);
    expect(ps.stdout).toMatch(/redis-server .*:8311/); // the process nodes are there to be seen
    expect(ps.stdout).not.toContain(TOKEN);
  });

  it('RCTL_HOME and every folder in it are 0700; every file that holds the password is 0600', async () => {
    expect(lstatSync(home).mode & 0o777).toBe(0o700);
    const entries = walk(home);
    expect(entries.filter((e) => e.dir && e.mode !== 0o700)).toEqual([]);
    const holding = entries.filter((e) => !e.dir && readFileSync(e.path).includes(TOKEN));
    expect(holding.filter((e) => e.mode !== 0o600)).toEqual([]);
    // The walk did see the files that must hold it: records, process nodes' redis.conf, sentinel.conf.
    const rel = holding.map((e) => e.path.slice(home.length + 1)).sort();
    expect(rel).toEqual(
      expect.arrayContaining([
        `clusters/${DOCK}.json`,
        `clusters/${PROC}.json`,
        `clusters/${SPROC}.json`,
        `clusters/${SDOCK}.json`,
        `clusters/${PROC}/node-1/redis.conf`,
        `clusters/${SPROC}/node-1/redis.conf`,
        `clusters/${SPROC}/sentinel-1/sentinel.conf`,
      ]),
    );
    // Sentinel has rewritten its file since rctl wrote it (Redis writes a new file on rewrite): still 0600.
    expect(readFileSync(join(home, 'clusters', SPROC, 'sentinel-1', 'sentinel.conf'), 'utf8')).toContain('# Generated by CONFIG REWRITE');
  });

  it('a restarted docker replica reads the same file: it still requires the password and re-syncs with masterauth', async () => {
    const info = await run(['info', '--name', DOCK, '--json']);
    const replica = (info.json?.['nodes'] as { role: string; address: string }[]).find((n) => n.role === 'replica')!;
    const port = Number(replica.address.split(':')[1]);
    const container = `${DOCK}-node-${port - 8301 + 1}`;
    expect((await exec('docker', ['restart', container])).code).toBe(0);
    const check = await checkEventually(DOCK);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(await redisCli(port, ['ping'])).toMatch(/NOAUTH/);
    expect(await redisCli(port, ['ping'], CLUSTER_PW)).toBe('PONG');
    expect((await exec('docker', ['inspect', container])).stdout).not.toContain(TOKEN);
  });

  it('a process node restarted by a drill reads the same redis.conf: it rejoins as a replica (masterauth) and requires the password', async () => {
    const r = await run(['drill', 'failover', '--name', PROC, '--mode', 'stop', '--json'], {}, 150_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const check = await checkEventually(PROC);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    for (const port of [8311, 8312, 8313, 8314, 8315, 8316]) expect(await redisCli(port, ['ping'])).toMatch(/NOAUTH/);
    expect((await exec('ps', ['-eo', 'args'])).stdout).not.toContain(TOKEN);
  });

  it('--host 0.0.0.0 with a password works, and the suggested redis-cli command uses a connectable address', async () => {
    const r = await run(['create', '--name', ANY, '--provider', 'process', '--host', '0.0.0.0', '--replicas', '0', '--port-base', '8321', '--node-timeout', '1000'], { RCTL_PASSWORD: CLUSTER_PW });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Try: redis-cli -c -h 127.0.0.1 -p 8321 --askpass   ·   rctl check --name ${ANY}`);
    expect(r.stdout).not.toContain('-h 0.0.0.0');
    expect(await redisCli(8321, ['ping'], CLUSTER_PW)).toBe('PONG');
    expect((await run(['destroy', '--name', ANY, '--yes'])).code).toBe(0);
  });

  it('no output of rctl (stdout, stderr, --json, events, errors) contained the password', () => {
    expect(seen.length).toBeGreaterThan(15);
    expect(seen.filter((s) => s.includes(TOKEN))).toEqual([]);
  });
});
