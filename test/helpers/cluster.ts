import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A bare cluster-enabled redis-server process (a node to add). */
export interface BareNode {
  readonly port: number;
  readonly id: string;
  readonly proc: ChildProcess;
  /** SIGKILL; resolves once the process is gone (its port refuses connections) and its directory is removed. */
  stop(): Promise<void>;
}

export async function startBareNode(port: number, extra: string[] = []): Promise<BareNode> {
  const dir = mkdtempSync(join(tmpdir(), 'rctl-bare-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const id = String(await r.call('CLUSTER', 'MYID'));
      r.disconnect();
      const exited = new Promise<void>((res) => (proc.exitCode !== null || proc.signalCode !== null ? res() : proc.once('exit', () => res())));
      return {
        port,
        id,
        proc,
        stop: async () => {
          proc.kill('SIGKILL');
          await exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch {
      r.disconnect();
      await new Promise((res) => setTimeout(res, 25));
    }
  }
  proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server on ${port} did not start`);
}

/** Introduce a bare node to the cluster (CLUSTER MEET), as `add-node` does. */
export async function meet(port: number, seedPort: number): Promise<void> {
  const r = new Redis({ port });
  await r.call('CLUSTER', 'MEET', '127.0.0.1', String(seedPort));
  r.disconnect();
}

/** CLUSTER NODES as one node prints it. */
export async function clusterNodes(port: number): Promise<string> {
  const r = new Redis({ port });
  try {
    return String(await r.call('CLUSTER', 'NODES'));
  } finally {
    r.disconnect();
  }
}
