import type { Command } from 'commander';
import { RctlError } from '../../errors.js';
import { DockerProvider } from '../../provision/docker/docker-provider.js';
import { dockerClient, engineAnswers } from '../../provision/docker/engine.js';
import { LABEL_CLUSTER, containerName } from '../../provision/docker/labels.js';
import { providerFor, resolveImage } from '../../provision/select.js';
import { deleteRecord, readRecord } from '../../state/records.js';
import { outputOptions } from '../options.js';
import { declined } from '../declined.js';
import { confirmOrRefuse } from '../prompt.js';
import { runCommand } from '../run.js';
import { DEFAULT_NAME } from '../target.js';

export function registerDestroy(program: Command): void {
  outputOptions(program.command('destroy').description('remove a cluster rctl created: its containers or processes and their data').option('--name <name>', 'cluster name', DEFAULT_NAME)).action(
    (flags: { name?: string; json?: boolean; yes?: boolean }) =>
      runCommand(flags, async (ctx) => {
        const name = flags.name ?? DEFAULT_NAME;
        const record = await readRecord(name);
        const docker = await dockerClient();
        const dockerUp = await engineAnswers(docker, 1500);
        // Containers labelled with the name are rctl's even when the record is gone (a crash mid-create).
        const labelled = dockerUp ? await new DockerProvider(docker, resolveImage()).labelled(name) : [];
        if (!record && labelled.length === 0) {
          if (dockerUp && (await docker.getContainer(containerName(name, 1)).inspect().then((c) => c.Config.Labels?.[LABEL_CLUSTER] !== name, () => false))) {
            throw new RctlError('NOT_CREATED_BY_RCTL', `Container ${containerName(name, 1)} was not created by rctl; rctl will not remove it.`, { hint: 'Remove it with docker yourself if you mean to.' });
          }
          throw new RctlError('UNKNOWN_CLUSTER', `rctl has no cluster named "${name}".`, { hint: 'See `rctl ls` for the clusters rctl created.' });
        }
        // Before asking: a docker cluster with no engine answering fails here, clearly, not midway.
        const provider = record ? await providerFor(record.provider, record.image) : undefined;
        const halfCreated = record?.status === 'creating';
        const count = record?.nodes.length || labelled.length;
        const what = halfCreated ? 'whatever the interrupted create had started' : record?.provider === 'process' ? `${count} redis-server process(es)` : `${count} container(s)`;
        const ok = await confirmOrRefuse(ctx, `Destroy cluster "${name}": remove ${what} and all their data?`, `Destroying cluster "${name}"`);
        if (!ok) return declined({ destroyed: false }, 'Nothing removed.');
        const purged = provider && record ? await provider.purge(name, record.nodes) : 0;
        if (labelled.length > 0 && record?.provider !== 'docker') await new DockerProvider(docker, resolveImage()).purge(name);
        await deleteRecord(name);
        if (halfCreated) {
          return {
            data: { destroyed: true, name, nodes: Math.max(purged, labelled.length), halfCreated: true },
            human: `Destroyed cluster "${name}", which an interrupted create had left half-created (${Math.max(purged, labelled.length)} node(s) and their data removed).`,
          };
        }
        return { data: { destroyed: true, name, nodes: count }, human: `Destroyed cluster "${name}" (${what} and their data removed).` };
      }),
  );
}
