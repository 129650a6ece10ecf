import { describe, expect, it } from 'vitest';
import { ImagekitError, invalidInput, toImagekitError, unsupported } from '../../../src/core/errors.js';
import { safeRelativePath } from '../../../src/core/file-tree.js';
import { MemorySink } from '../../../src/core/sink.js';
import { reproFromEnv, seededBytes } from '../../../src/core/repro.js';

describe('errors', () => {
  it('carry a code, a one-line message and the imager exit code', () => {
    const e = invalidInput('E_X', 'bad\ninput');
    expect(e).toBeInstanceOf(ImagekitError);
    expect(e.message).toBe('bad input');
    expect(e.exitCode).toBe(2);
    expect(unsupported('E_Y', 'no').exitCode).toBe(3);
  });
  it('map node I/O errors to exit 6 and unknown errors to exit 1', () => {
    const io = Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'open', path: '/nope' });
    expect(toImagekitError(io).exitCode).toBe(6);
    expect(toImagekitError(io).message).toBe('open /nope: ENOENT');
    expect(toImagekitError(new Error('boom')).exitCode).toBe(1);
  });
});

describe('safeRelativePath', () => {
  it('normalises and rejects escapes', () => {
    expect(safeRelativePath('/./a//b/')).toBe('a/b');
    expect(() => safeRelativePath('a/../../etc')).toThrow(/escapes/);
    expect(() => safeRelativePath('a\0b')).toThrow(/NUL/);
  });
});

describe('MemorySink', () => {
  it('writes at offsets, zero-fills holes and grows', async () => {
    const s = new MemorySink();
    await s.write(4, new Uint8Array([1, 2]));
    await s.hole(6, 2);
    expect([...s.bytes()]).toEqual([0, 0, 0, 0, 1, 2, 0, 0]);
    await expect(s.write(-1, new Uint8Array(1))).rejects.toThrow(/invalid write range/);
  });
});

describe('reproducibility context', () => {
  it('reads SOURCE_DATE_EPOCH and rejects garbage', () => {
    expect(reproFromEnv({}).sourceDateEpoch).toBe(0);
    expect(reproFromEnv({ SOURCE_DATE_EPOCH: '1700000000' }).sourceDateEpoch).toBe(1700000000);
    expect(() => reproFromEnv({ SOURCE_DATE_EPOCH: 'now' })).toThrow(/SOURCE_DATE_EPOCH/);
  });
  it('derives seeded bytes deterministically', () => {
    const ctx = { sourceDateEpoch: 0, seed: 's' };
    expect(seededBytes(ctx, 'a', 40)).toEqual(seededBytes(ctx, 'a', 40));
    expect(seededBytes(ctx, 'a', 16)).not.toEqual(seededBytes(ctx, 'b', 16));
  });
});
