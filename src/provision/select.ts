import type { ProviderKind } from '../state/records.js';
import { readUserConfig } from '../state/user-config.js';
import { DEFAULT_IMAGE } from '../version.js';
import { DockerProvider } from './docker/docker-provider.js';
import { dockerClient, engineAnswers } from './docker/engine.js';
import { ProcessProvider } from './process/process-provider.js';
import type { Provider } from './provider.js';

/** --image, else RCTL_IMAGE, else ~/.rctl/config.json (written by setup), else the pinned official tag. */
export function resolveImage(flag?: string): string {
  return flag ?? process.env['RCTL_IMAGE'] ?? readUserConfig().image ?? DEFAULT_IMAGE;
}

/** The provider asked for, or docker when an engine answers and process otherwise. */
export async function selectProvider(kind: ProviderKind | undefined, image?: string): Promise<Provider> {
  if (kind === 'process') return new ProcessProvider();
  const docker = await dockerClient();
  if (kind === 'docker' || (await engineAnswers(docker, 1500))) return new DockerProvider(docker, resolveImage(image));
  return new ProcessProvider();
}

/** The provider that created a recorded cluster. */
export async function providerFor(kind: ProviderKind, image?: string): Promise<Provider> {
  return kind === 'process' ? new ProcessProvider() : new DockerProvider(await dockerClient(), resolveImage(image));
}
