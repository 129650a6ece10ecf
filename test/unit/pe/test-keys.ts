/**
 * Test key material made with the openssl CLI (never with our own code): RSA keys and self-signed
 * X.509 certificates, in a temp directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from '../../helpers/tools.js';

export interface TestKeyPair {
  keyPath: string;
  certPath: string;
  /** PEM texts. */
  key: string;
  cert: string;
  /** DER certificate. */
  certDer: Buffer;
}

/** A self-signed RSA certificate `CN=<cn>` (openssl req -x509), 2048 bits unless told. */
export function makeTestKeyPair(dir: string, name: string, cn = `imagekit test ${name}`, bits = 2048): TestKeyPair {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.pem`);
  const r = runTool('openssl', [
    'req', '-x509', '-newkey', `rsa:${bits}`, '-nodes', '-sha256', '-days', '3650',
    '-subj', `/CN=${cn}/O=imagekit`, '-keyout', keyPath, '-out', certPath,
  ]);
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  const der = runTool('openssl', ['x509', '-in', certPath, '-outform', 'DER', '-out', `${certPath}.der`]);
  if (der.status !== 0) throw new Error(`openssl x509 failed: ${der.stderr}`);
  return { keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certDer: readFileSync(`${certPath}.der`) };
}

/** A bare RSA private key (PKCS#8 PEM) made by openssl. */
export function makeTestRsaKey(dir: string, name: string, bits = 2048): { keyPath: string; key: string } {
  const keyPath = join(dir, `${name}.key`);
  const r = runTool('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', keyPath]);
  if (r.status !== 0) throw new Error(`openssl genpkey failed: ${r.stderr}`);
  return { keyPath, key: readFileSync(keyPath, 'utf8') };
}
