import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { resolveImage } from '../../src/provision/select.js';

declare module 'vitest' {
  export interface ProvidedContext {
    image: string;
  }
}

/**
 * Integration tests need what `npm run setup` provides: a Docker engine, a Redis image, redis-server.
 * Fail loudly (not skip) when it is missing: a skipped integration test proves nothing.
 */
export default function setup(project: TestProject): void {
  const image = resolveImage();
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
  } catch {
    throw new Error(`Integration tests need a Docker engine and the image ${image}: run \`npm run setup\` first.`);
  }
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('Integration tests need redis-server on PATH: run `npm run setup` first.');
  }
  project.provide('image', image);
}
