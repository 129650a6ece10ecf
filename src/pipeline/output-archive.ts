/**
 * `--tar-to-stdout` (upstream `cmd/installer/cmd/imager/root.go`: after the build,
 * `archiver.TarGz(outputPath, os.Stdout)`): the output directory as a gzip-compressed tar. Regular
 * files only, in sorted path order, root-owned, mtime SOURCE_DATE_EPOCH, so the stream is as
 * reproducible as the files in it.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncoder } from '../compress/encoder.js';
import { ioError } from '../core/errors.js';
import { gnuFileHeader } from './tar-member.js';

const BLOCK = 512;

async function regularFiles(dir: string, prefix = ''): Promise<Array<{ name: string; path: string; size: number; mode: number }>> {
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: Array<{ name: string; path: string; size: number; mode: number }> = [];
  for (const n of names) {
    const path = join(dir, n);
    const st = await stat(path);
    if (st.isDirectory()) out.push(...(await regularFiles(path, `${prefix}${n}/`)));
    else if (st.isFile() && !n.startsWith('.') ) out.push({ name: `${prefix}${n}`, path, size: st.size, mode: st.mode & 0o777 });
  }
  return out;
}

/** Write `dir` as a .tar.gz to `stream` (not ended). */
export async function writeDirectoryTarGz(dir: string, stream: NodeJS.WritableStream, sourceDateEpoch: number): Promise<void> {
  const files = await regularFiles(dir);
  async function* tar(): AsyncGenerator<Uint8Array> {
    for (const f of files) {
      yield gnuFileHeader(f.name, f.size, sourceDateEpoch, f.mode);
      let n = 0;
      for await (const c of createReadStream(f.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        n += c.byteLength;
        yield c;
      }
      if (n !== f.size) throw ioError('E_OUTPUT_CHANGED', `${f.path} changed while it was archived`);
      const pad = (BLOCK - (f.size % BLOCK)) % BLOCK;
      if (pad) yield new Uint8Array(pad);
    }
    yield new Uint8Array(2 * BLOCK);
  }
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      if (stream.write(chunk)) cb();
      else stream.once('drain', () => cb());
    },
  });
  await pipeline(Readable.from(tar(), { objectMode: false }), createEncoder({ format: 'gzip', level: 6 }), out);
}
