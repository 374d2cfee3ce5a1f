import type Docker from 'dockerode';
import { RctlError, messageOf } from '../../errors.js';

/**
 * A dockerode client for DOCKER_HOST or the default socket. Loaded on demand: dockerode pulls in
 * ssh2 and protobufjs, a third of rctl's start-up time, and most commands never talk to Docker.
 */
export async function dockerClient(): Promise<Docker> {
  const { default: DockerCtor } = await import('dockerode');
  return new DockerCtor();
}

/** Bounded ping: true when an engine answers within `ms`. */
export async function engineAnswers(docker: Docker, ms = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    });
    await Promise.race([docker.ping(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Where dockerode connects: DOCKER_HOST or the default socket. */
export const dockerEndpoint = (): string => process.env['DOCKER_HOST'] || '/var/run/docker.sock';

export async function requireEngine(docker: Docker, hint = 'Start Docker (`rctl setup` does), or use --provider process to run redis-server processes instead.'): Promise<void> {
  if (!(await engineAnswers(docker))) throw new RctlError('NO_DOCKER', `No Docker engine answers at ${dockerEndpoint()}.`, { hint });
}

/** Docker's HTTP status of a failed call (404 missing, 409 conflict), if any. */
export const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number } | undefined)?.statusCode;

/** Make sure `image` is present: use it if it is, pull it if not; a failed pull is one clear error. */
export async function ensureImage(docker: Docker, image: string, timeoutMs = 180_000): Promise<'present' | 'pulled'> {
  try {
    await docker.getImage(image).inspect();
    return 'present';
  } catch (err) {
    if (statusOf(err) !== 404) throw new RctlError('NO_DOCKER', `Docker failed to inspect image ${image}: ${messageOf(err)}`);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pull did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
      docker.pull(image, (err: Error | null, stream: NodeJS.ReadableStream) => {
        if (err) {
          clearTimeout(timer);
          return reject(err);
        }
        docker.modem.followProgress(stream, (e: Error | null) => {
          clearTimeout(timer);
          if (e) reject(e);
          else resolve();
        });
      });
    });
    return 'pulled';
  } catch (err) {
    throw new RctlError('IMAGE_MISSING', `Image ${image} is not present and could not be pulled (${firstLine(messageOf(err))}).`, {
      hint: 'Pass --image (or set RCTL_IMAGE) to a local Redis image, or run `rctl setup`, which builds one when no registry is reachable.',
    });
  }
}

const firstLine = (s: string): string => s.split('\n')[0]?.replace(/^\(HTTP code \d+\)\s*\S*\s*-\s*/, '') ?? s;

/** Docker engine id: the failure domain for anti-affinity (two containers on one engine share a machine). */
export async function engineId(docker: Docker): Promise<string> {
  const info = (await docker.info()) as { ID?: string; Name?: string };
  return `docker:${info.Name ?? info.ID ?? 'local'}`;
}
