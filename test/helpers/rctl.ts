import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/rctl', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed stdout when it is JSON. */
  json: Record<string, unknown> | undefined;
}

/**
 * An isolated rctl state directory, removed after the file (or the describe block) that created it:
 * call it at module or describe level, not inside a test (a hook registered there never runs).
 * Suites' own afterAll hooks (destroy) run before this one.
 */
export function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rctl-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Run the real CLI as a user would (built dist, no TTY, CI=true). */
export function rctl(args: string[], opts: { home: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, RCTL_HOME: opts.home, RCTL_IMAGE: inject('image'), CI: 'true', ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

/** Run a process to completion (redis-cli, docker). */
export function exec(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Containers and volumes Docker still has for a cluster name (labelled by rctl or named like its nodes). */
export async function dockerLeftovers(name: string): Promise<string[]> {
  const c = await exec('docker', ['ps', '-a', '--filter', `label=io.rctl.cluster=${name}`, '--format', '{{.Names}}']);
  const v = await exec('docker', ['volume', 'ls', '--filter', `label=io.rctl.cluster=${name}`, '--format', '{{.Name}}']);
  return [...c.stdout.split('\n'), ...v.stdout.split('\n')].filter(Boolean);
}

/** `redis-cli --cluster check`, the peer's verdict. */
export async function redisCliCheck(seed: string, password?: string): Promise<{ ok: boolean; output: string }> {
  const [host, port] = seed.split(':') as [string, string];
  const args = ['-h', host, '-p', port, ...(password ? ['-a', password, '--no-auth-warning'] : []), '--cluster', 'check', seed];
  const r = await exec('redis-cli', args);
  return { ok: r.code === 0 && !/\[ERR\]|\[WARNING\]/.test(r.stdout), output: r.stdout + r.stderr };
}

/** redis-cli --cluster check, retried for a few seconds: replicas learn ownership changes by gossip. */
export async function redisCliCheckSettled(seed: string, password?: string, ms = 10_000): Promise<{ ok: boolean; output: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await redisCliCheck(seed, password);
    if (r.ok || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Wait until `rctl check` passes (e.g. after a node joined by hand). */
export async function waitHealthy(seed: string, home: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await rctl(['check', '--seed', seed], { home });
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`cluster at ${seed} not healthy: ${r.stdout}${r.stderr}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
