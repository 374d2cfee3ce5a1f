/**
 * A one-file tar archive (ustar), enough for Docker's putArchive: the way to place a file in a
 * container without a shell in the image.
 */
export function tarOf(name: string, content: string, mode = 0o644): Buffer {
  const body = Buffer.from(content, 'utf8');
  const header = Buffer.alloc(512, 0);
  const put = (s: string, off: number, len: number): void => {
    header.write(s.slice(0, len), off, 'utf8');
  };
  const oct = (n: number, len: number): string => `${n.toString(8).padStart(len - 1, '0')}\0`;
  put(name, 0, 100);
  put(oct(mode, 8), 100, 8);
  put(oct(0, 8), 108, 8); // uid
  put(oct(0, 8), 116, 8); // gid
  put(oct(body.length, 12), 124, 12);
  put(oct(Math.floor(Date.now() / 1000), 12), 136, 12);
  header.fill(' ', 148, 156); // checksum field counts as spaces while summing
  put('0', 156, 1); // regular file
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512, 0);
  return Buffer.concat([header, body, pad, Buffer.alloc(1024, 0)]);
}
