/**
 * `imagekit inspect <image>`: the partition table of a disk image (checked as firmware would),
 * each partition's filesystem (FAT: type, label, serial, cluster size; META: keys) and the files of
 * every FAT filesystem. `--json` prints the same as JSON. A bare FAT image is accepted too.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatDiskReport, inspectDisk } from '../../boot/disk/index.js';
import { ioError } from '../../core/errors.js';
import type { ByteReader } from '../../formats/gpt/index.js';

interface InspectFlags {
  json?: boolean;
  files: boolean;
}

async function fileReader(path: string): Promise<{ reader: ByteReader; fh: FileHandle }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw ioError('E_INPUT_OPEN', `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  const st = await fh.stat();
  if (!st.isFile() && !st.isBlockDevice()) {
    await fh.close();
    throw ioError('E_INPUT_OPEN', `${path} is not a regular file`);
  }
  const reader: ByteReader = {
    size: st.size,
    async read(offset, length) {
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    },
  };
  return { reader, fh };
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show the partition table, filesystems and ESP files of a disk image')
    .argument('<image>', 'raw disk image (or a bare FAT image)')
    .option('--json', 'print the report as JSON')
    .option('--no-files', 'do not list the files of FAT filesystems')
    .action(async (image: string, flags: InspectFlags) => {
      const { reader, fh } = await fileReader(image);
      try {
        const report = await inspectDisk(reader, { name: image, listFiles: flags.files });
        process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatDiskReport(report, image));
      } finally {
        await fh.close();
      }
    });
}
