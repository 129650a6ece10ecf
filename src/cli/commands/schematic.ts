/**
 * `imagekit schematic id <file|->` prints a schematic's ID as the Image Factory computes it;
 * `imagekit schematic show <file|->` prints its canonical YAML (the bytes that are hashed).
 * Input is YAML or JSON, decoded and validated as `POST /schematics` does (image-factory.md §1).
 */
import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { ImagekitError, invalidInput, ioError } from '../../core/errors.js';
import { canonicalYaml, decodeSchematic, schematicId, type CanonicalOptions } from '../../schematic/index.js';

/** Larger than any real schematic (embedded machine configs are a few KiB); bounds memory. */
const MAX_SCHEMATIC_BYTES = 16 * 1024 * 1024;

interface SchematicFlags {
  enterprise?: boolean;
  quoting: string;
}

export function register(program: Command): void {
  const schematic = program.command('schematic').description('compute Image Factory schematic IDs and canonical YAML');
  const common = (cmd: Command) =>
    cmd
      .argument('<file>', 'schematic YAML or JSON file, or - for standard input')
      .option('--enterprise', 'accept an `owner` field (Enterprise edition); the community edition rejects it')
      .option(
        '--quoting <rule>',
        'quoting of YAML 1.1 look-alike strings (yes, off, 1:20): legacy (image-factory ≤ v1.4) or rc6',
        'legacy',
      );

  common(schematic.command('id').description('print the schematic ID (sha256 of the canonical YAML)')).action(
    async (file: string, flags: SchematicFlags) => {
      const { text, options } = await load(file, flags);
      process.stdout.write(schematicId(text, options) + '\n');
    },
  );

  common(schematic.command('show').description('print the canonical YAML of the schematic (the bytes the ID hashes)')).action(
    async (file: string, flags: SchematicFlags) => {
      const { text, options } = await load(file, flags);
      process.stdout.write(canonicalYaml(text, options));
    },
  );
}

async function load(file: string, flags: SchematicFlags) {
  if (flags.quoting !== 'legacy' && flags.quoting !== 'rc6') {
    throw invalidInput('E_CLI_QUOTING', `invalid --quoting ${JSON.stringify(flags.quoting)}: expected legacy or rc6`);
  }
  const options: CanonicalOptions = { quoting: flags.quoting };
  const bytes = file === '-' ? await readStdin() : await readFileBounded(file);
  const name = file === '-' ? 'stdin' : file;
  try {
    return { text: decodeSchematic(bytes, { enterprise: flags.enterprise === true }), options };
  } catch (err) {
    // Name the input at fault; keep the code and exit code.
    if (err instanceof ImagekitError) throw new ImagekitError(err.code, exitKind(err), `${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

function exitKind(err: ImagekitError): ConstructorParameters<typeof ImagekitError>[1] {
  return err.exitCode === 3 ? 'unsupported' : 'invalidInput';
}

function tooLarge(name: string): Error {
  return invalidInput('E_SCHEMATIC_TOO_LARGE', `${name}: schematic larger than ${MAX_SCHEMATIC_BYTES} bytes`);
}

async function readFileBounded(path: string): Promise<Uint8Array> {
  try {
    const fh = await open(path, 'r');
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > MAX_SCHEMATIC_BYTES) throw tooLarge(path);
        chunks.push(buf.subarray(0, bytesRead));
      }
      return Buffer.concat(chunks);
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw invalidInput('E_SCHEMATIC_FILE', `${path}: no such schematic file`, err);
    if (code === 'EISDIR') throw invalidInput('E_SCHEMATIC_FILE', `${path}: is a directory, not a schematic file`, err);
    if (typeof code === 'string') throw ioError(`E_IO_${code}`, `${path}: cannot read: ${code}`, err);
    throw err;
  }
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_SCHEMATIC_BYTES) throw tooLarge('stdin');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
