import type Docker from 'dockerode';

/**
 * Last lines a container printed. Without a TTY Docker multiplexes stdout/stderr in frames with an
 * 8-byte header (stream, 0, 0, 0, size32be); strip them.
 */
export async function containerLogTail(docker: Docker, name: string, lines: number): Promise<string> {
  try {
    const buf = (await docker.getContainer(name).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    return demux(buf).trim();
  } catch {
    return '';
  }
}

export function demux(buf: Buffer): string {
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  return i === 0 ? buf.toString('utf8') : parts.join('');
}
