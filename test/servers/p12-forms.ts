import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pki } from './pki.js';

export interface P12Form {
  name: string;
  p12: Buffer;
  passphrase?: string;
}

/**
 * The test client certificate exported as people export APNS certificates, with the openssl
 * commands they use: unencrypted (what `-keypbe NONE -certpbe NONE` makes, with and without a
 * MAC), with an empty password, OpenSSL 3's default (AES-256), and the legacy RC2-40 that
 * Keychain and OpenSSL 1 wrote (which OpenSSL 3 itself no longer reads).
 */
export function p12Forms(pki: Pki): P12Form[] {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-p12-'));
  try {
    const export12 = (file: string, args: string[]) => {
      execFileSync('openssl', ['pkcs12', '-export', '-inkey', join(pki.dir, 'client-key.pem'), '-in', join(pki.dir, 'client-cert.pem'), '-out', join(dir, file), ...args], { stdio: 'pipe' });
      return readFileSync(join(dir, file));
    };
    return [
      { name: 'unencrypted (-keypbe NONE -certpbe NONE)', p12: export12('none.p12', ['-keypbe', 'NONE', '-certpbe', 'NONE', '-passout', 'pass:']) },
      { name: 'unencrypted, no MAC', p12: export12('nomac.p12', ['-keypbe', 'NONE', '-certpbe', 'NONE', '-nomac', '-passout', 'pass:']) },
      { name: 'empty password', p12: export12('empty.p12', ['-passout', 'pass:']) },
      { name: 'AES-256 with a password', p12: export12('aes.p12', ['-passout', 'pass:secret']), passphrase: 'secret' },
      { name: 'legacy RC2-40 (Keychain, OpenSSL 1)', p12: export12('legacy.p12', ['-legacy', '-passout', 'pass:secret']), passphrase: 'secret' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A P12 of a certificate that is not Apple's: no mark for either APNS environment. */
export function p12WithoutApnsMark(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-p12-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/UID=com.example.other', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'cert.pem'), '-out', join(dir, 'plain.p12'), '-passout', 'pass:'], { stdio: 'pipe' });
    return readFileSync(join(dir, 'plain.p12'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
