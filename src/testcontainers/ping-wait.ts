import type Dockerode from 'dockerode';
import type { BoundPorts, WaitStrategy } from 'testcontainers';
import { RctlError, messageOf } from '../errors.js';
import { AdminConnections } from '../redis/connection.js';
import type { NodeAddress } from '../redis/address.js';
import { demux } from '../provision/docker/logs.js';

/**
 * Ready when the node answers (after AUTH when it has a password) and is this container's node, polled every 25 ms and
 * bounded by the startup timeout. A container that exits meanwhile (a bad setting, a port taken
 * under host networking) fails at once with its last log lines instead of after the timeout.
 * `where` says how to reach the node from this process, given the ports Docker published.
 */
export class PingWaitStrategy implements WaitStrategy {
  // testcontainers' AbstractWaitStrategy is not exported from its package root: the same three members here.
  private startupTimeoutMs = 30_000;
  private startupTimeoutSet = false;

  constructor(
    private readonly where: (ports: BoundPorts) => NodeAddress,
    private readonly password: string | undefined,
    /**
     * The config file this container's redis-server was started with. Under host networking a port
     * can answer for another process (a node started on it a moment earlier): only a node that
     * names this file (INFO server, config_file) is ours.
     */
    private readonly configFile: string,
  ) {}

  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    this.startupTimeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.startupTimeoutSet;
  }

  getStartupTimeout(): number {
    return this.startupTimeoutMs;
  }

  async waitUntilReady(container: Dockerode.Container, boundPorts: BoundPorts): Promise<void> {
    const addr = this.where(boundPorts);
    const deadline = Date.now() + this.startupTimeoutMs;
    let last = 'not tried yet';
    for (let i = 0; ; i++) {
      const conns = new AdminConnections({ password: this.password, connectTimeoutMs: 1000, commandTimeoutMs: 1000 });
      try {
        const info = await conns.run(addr, (r) => r.info('server'));
        const file = /^config_file:(.*)$/m.exec(info)?.[1]?.trim();
        if (file === this.configFile) return;
        last = `${addr.host}:${addr.port} is answered by another Redis (config file ${file || 'none'})`;
      } catch (err) {
        // A wrong password will not get better by waiting.
        if (err instanceof RctlError && err.code === 'AUTH') throw err;
        last = messageOf(err);
      } finally {
        await conns.closeAll();
      }
      if (i % 20 === 19) await this.failIfExited(container);
      if (Date.now() > deadline) {
        throw new RctlError('TIMEOUT', `Redis node ${addr.host}:${addr.port} did not answer PING within ${this.startupTimeoutMs} ms (${last}).`, {
          hint: 'See the container log (`docker logs <container>`); a slow machine may need a longer startup timeout.',
        });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async failIfExited(container: Dockerode.Container): Promise<void> {
    const info = await container.inspect();
    if (info.State.Running) return;
    let tail = '';
    try {
      tail = demux((await container.logs({ stdout: true, stderr: true, tail: 5, follow: false })) as unknown as Buffer).trim();
    } catch {
      // The exit code alone still says what happened.
    }
    throw new RctlError('PROVISION_FAILED', `Redis container ${info.Name.replace(/^\//, '')} exited with code ${info.State.ExitCode}${tail ? `; its last log lines:\n${tail}` : ''}`);
  }
}
