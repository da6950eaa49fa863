// Test support: a throwaway TLS certificate for 127.0.0.1 and localhost, made with openssl
// at test time in a temporary directory, so no private key is ever checked in.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface Certificate {
  /** PEM files: the self-signed certificate (its own CA, for clients to trust) and its key. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  /** Removes the directory, key included. */
  remove(): Promise<void>;
}

export async function makeCertificate(): Promise<Certificate> {
  const directory = await mkdtemp(join(tmpdir(), 'event-store-tls-'));
  const certFile = join(directory, 'cert.pem');
  const keyFile = join(directory, 'key.pem');
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return { certFile, keyFile, cert: await readFile(certFile), remove: () => rm(directory, { recursive: true, force: true }) };
}
