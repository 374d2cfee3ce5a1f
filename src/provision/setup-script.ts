import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RctlError } from '../errors.js';

/**
 * scripts/setup.sh as shipped with rctl (package.json "files" includes scripts/): found relative to
 * this module, so it works from a clone (`npm run setup` runs the same file) and from a global
 * install, where there is no package.json script to run.
 */
export const setupScriptPath = (): string => fileURLToPath(new URL('../../scripts/setup.sh', import.meta.url));

/**
 * Run the setup script (idempotent: installs what is missing, starts dockerd, makes sure a Redis
 * image exists). Its own output goes to stdout, or to stderr (`outputFd` 2) when stdout must stay
 * one JSON document.
 */
export async function runSetupScript(o: { outputFd: 1 | 2; signal?: AbortSignal }): Promise<void> {
  const script = setupScriptPath();
  if (!existsSync(script)) {
    throw new RctlError('PROVISION_FAILED', `The setup script is missing from this installation (${script}).`, { hint: 'Reinstall rctl; the package ships scripts/setup.sh.' });
  }
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['inherit', o.outputFd, 'inherit'], ...(o.signal ? { signal: o.signal } : {}) });
    child.on('error', (err) => (err.name === 'AbortError' ? resolve(130) : reject(new RctlError('PROVISION_FAILED', `Could not run ${script}: ${err.message}.`, { hint: 'It needs bash.' }))));
    child.on('close', (c, sig) => resolve(c ?? (sig ? 130 : 1)));
  });
  if (code === 130) throw new RctlError('INTERRUPTED', 'Setup was interrupted.', { hint: 'Run `rctl setup` again: it picks up where it stopped.' });
  if (code !== 0) {
    throw new RctlError('PROVISION_FAILED', `Setup failed: ${script} exited with code ${code}.`, { hint: 'Its output above says which step failed; fix that and run `rctl setup` again (it is idempotent).' });
  }
}
