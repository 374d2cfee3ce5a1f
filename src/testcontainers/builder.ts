import type { PortRange } from './ports.js';

/**
 * What every rctl container builder takes, in @testcontainers/redis's manner: the image, a
 * password, the ports to choose from and how long a node may take to answer.
 */
export abstract class RedisGroupBuilder {
  protected image: string | undefined;
  protected password: string | undefined;
  protected portRange: PortRange | undefined;
  protected startupTimeoutMs: number | undefined;

  /** Default image: RCTL_IMAGE, else ~/.rctl/config.json `image`, else the pinned official one (like the CLI). */
  constructor(image?: string) {
    this.image = image;
  }

  withImage(image: string): this {
    this.image = image;
    return this;
  }
  /** requirepass and masterauth on every data node (auth-pass in Sentinels), kept in 0600 files, never in arguments. */
  withPassword(password: string): this {
    this.password = password;
    return this;
  }
  /** Client ports to choose from (default 13000-15999, or RCTL_TC_PORT_RANGE=lo-hi); bus ports are +10000. */
  withPortRange(range: PortRange): this {
    this.portRange = range;
    return this;
  }
  /** Bound on each node answering after its container starts (default 30 s). */
  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }
}
