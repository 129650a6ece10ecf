import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecureBootKeys, pcrPublicKeyFingerprint, secureBootKeyFilesInDir } from '../../../src/boot/secureboot/index.js';
import { missingTools, tempDir } from '../../helpers/tools.js';
import { makeTestKeyPair } from '../pe/test-keys.js';

describe.skipIf(missingTools('openssl'))('loadSecureBootKeys', () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir('imagekit-keys-');
  });
  afterAll(() => t?.cleanup());

  it('loads a keys directory with the imager file names', async () => {
    const k = makeTestKeyPair(t.dir, 'sb');
    copyFileSync(k.keyPath, join(t.dir, 'uki-signing-key.pem'));
    copyFileSync(k.certPath, join(t.dir, 'uki-signing-cert.pem'));
    copyFileSync(new URL('./fixtures/talos-pcr-signing-key.pem', import.meta.url), join(t.dir, 'pcr-signing-key.pem'));
    const keys = await loadSecureBootKeys(secureBootKeyFilesInDir(t.dir));
    expect(Buffer.from(keys.signer.certificate)).toEqual(k.certDer);
    expect(Buffer.from(keys.signingCertPem).toString()).toBe(k.cert);
    expect(pcrPublicKeyFingerprint(keys.pcrSigner)).toBe('58f58f625bd8a8b6681e4b40688cf99b26419b6b2c5f6e14a2c7c67a3b0b1620');
  });

  it('names the missing file', async () => {
    await expect(loadSecureBootKeys(secureBootKeyFilesInDir(join(t.dir, 'nope')))).rejects.toMatchObject({ code: 'E_SECUREBOOT_KEY_READ', exitCode: 6 });
    await expect(loadSecureBootKeys(secureBootKeyFilesInDir(join(t.dir, 'nope')))).rejects.toThrow(/uki-signing-key\.pem/);
  });
});
