/**
 * rctl/testcontainers' own small reaper, run detached by ensureWatchdog():
 *   node watchdog.js <parent pid> <session id>
 * Polls the parent; once it is gone, removes every container, volume and network labelled with
 * the session, then exits. Idempotent with stop() and with testcontainers' Ryuk: whatever is
 * already removed is simply not found.
 */
import { dockerClient } from '../provision/docker/engine.js';
import { LABEL_SESSION } from './session.js';

const POLL_MS = 500;
/** Docker may be busy (a whole test run ending at once): try removal for this long. */
const CLEANUP_BOUND_MS = 60_000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const ignore = async (p: Promise<unknown>): Promise<void> => {
  try {
    await p;
  } catch {
    // Gone already (stop(), Ryuk) or removal in progress: both fine.
  }
};

async function removeSession(session: string): Promise<number> {
  const docker = await dockerClient();
  const filters = { label: [`${LABEL_SESSION}=${session}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => ignore(docker.getContainer(c.Id).remove({ force: true, v: true }))));
  const { Volumes } = await docker.listVolumes({ filters });
  await Promise.all((Volumes ?? []).map((v) => ignore(docker.getVolume(v.Name).remove())));
  const nets = await docker.listNetworks({ filters });
  await Promise.all(nets.map((n) => ignore(docker.getNetwork(n.Id).remove())));
  const left = await docker.listContainers({ all: true, filters });
  return left.length;
}

async function main(): Promise<void> {
  const parent = Number(process.argv[2]);
  const session = process.argv[3];
  if (!Number.isInteger(parent) || parent <= 0 || !session) process.exit(2);
  while (alive(parent)) await new Promise((r) => setTimeout(r, POLL_MS));
  const deadline = Date.now() + CLEANUP_BOUND_MS;
  for (;;) {
    try {
      if ((await removeSession(session)) === 0) return;
    } catch {
      // Engine briefly unavailable: retry within the bound.
    }
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

await main();
process.exit(0);
