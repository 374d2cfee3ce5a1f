import { noEvents, type EventSink } from '../events.js';
import type { ProviderKind } from '../state/records.js';
import { readUserConfig } from '../state/user-config.js';
import { DEFAULT_IMAGE } from '../version.js';
import { DockerProvider } from './docker/docker-provider.js';
import { dockerClient, dockerEndpoint, engineAnswers, requireEngine } from './docker/engine.js';
import { ProcessProvider } from './process/process-provider.js';
import type { Provider } from './provider.js';

/** --image, else RCTL_IMAGE, else ~/.rctl/config.json (written by setup), else the pinned official tag. */
export function resolveImage(flag?: string): string {
  return flag ?? process.env['RCTL_IMAGE'] ?? readUserConfig().image ?? DEFAULT_IMAGE;
}

/**
 * The provider asked for, or docker when an engine answers and process otherwise. Falling back is
 * said (a note event): someone who expected containers learns why they got processes.
 */
export async function selectProvider(kind: ProviderKind | undefined, image?: string, onEvent: EventSink = noEvents): Promise<Provider> {
  if (kind === 'process') return new ProcessProvider();
  const docker = await dockerClient();
  if (kind === 'docker' || (await engineAnswers(docker, 1500))) return new DockerProvider(docker, resolveImage(image));
  onEvent({ type: 'note', message: `No Docker engine answers (${dockerEndpoint()}); using --provider process.` });
  return new ProcessProvider();
}

/**
 * The provider that created a recorded cluster. Docker must answer: every later call on it would
 * otherwise fail with a raw socket error (connect ENOENT) in the middle of the operation.
 */
export async function providerFor(kind: ProviderKind, image?: string): Promise<Provider> {
  if (kind === 'process') return new ProcessProvider();
  const docker = await dockerClient();
  await requireEngine(docker, 'This cluster runs in Docker containers; start Docker (`rctl setup` does) and run the command again.');
  return new DockerProvider(docker, resolveImage(image));
}
