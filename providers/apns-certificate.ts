import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

let loaded: typeof Forge | undefined;
/** node-forge is loaded on the first certificate read: 2.7 MiB of heap that a broker without APNs certificates never needs. */
const forge = (): typeof Forge => (loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge);

/** Apple marks a push certificate with the environments it may be used in. */
const ENVIRONMENT_OID = { sandbox: '1.2.840.113635.100.6.3.1', production: '1.2.840.113635.100.6.3.2' } as const;

/** An OID as it appears in DER (tag, length, value): Node's X509Certificate does not list extensions. */
const oidBytes = (oid: string) => {
  const value = Buffer.from(forge().asn1.oidToDer(oid).getBytes(), 'binary');
  return Buffer.concat([Buffer.from([0x06, value.length]), value]);
};

/** A certificate that cannot be used for APNS, and why. */
export class CertificateError extends Error {}

/**
 * Reads a PKCS#12 file into PEM: every form Keychain and OpenSSL export (unencrypted, with an
 * empty password or none, RC2-40, 3DES, AES). node-forge reads them all; OpenSSL 3 (so Node's
 * TLS) refuses the legacy RC2 ones, and node-apn's own reader the unencrypted ones, so the
 * certificate goes on from here as PEM. The key comes out unencrypted: it is stored as the P12
 * and its password were.
 */
export function pemFromP12(p12: Buffer, passphrase?: string): { cert: string; key: string } {
  const { asn1, pkcs12, pki } = forge();
  let store: Forge.pkcs12.Pkcs12Pfx;
  try {
    // A file exported without a password is protected by the empty one.
    store = pkcs12.pkcs12FromAsn1(asn1.fromDer(p12.toString('binary')), false, passphrase ?? '');
  } catch (error) {
    throw new CertificateError(/password/i.test((error as Error).message) ? 'wrong password' : 'not a PKCS#12 file');
  }
  const bagsOf = (type: string) => store.getBags({ bagType: type })[type] ?? [];
  const keys = [...bagsOf(pki.oids.keyBag), ...bagsOf(pki.oids.pkcs8ShroudedKeyBag)];
  if (keys.length !== 1) throw new CertificateError(keys.length === 0 ? 'no private key in the file' : 'more than one private key in the file');
  const key = keys[0].key as Forge.pki.rsa.PrivateKey | null;
  if (!key) throw new CertificateError('the private key is not RSA');
  // The file may carry the chain too: the certificate is the one of this key.
  const cert = bagsOf(pki.oids.certBag).map((bag) => bag.cert).find((candidate) => {
    const publicKey = candidate?.publicKey as Forge.pki.rsa.PublicKey | undefined;
    return publicKey?.n?.equals(key.n) === true;
  });
  if (!cert) throw new CertificateError('no certificate of the private key in the file');
  return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(key) };
}

/**
 * Checks a certificate and key as node-apn will when it first sends (they match, the
 * certificate is current and marked for this environment), so that a certificate that cannot
 * send is refused when it is given rather than failing every send. Returns the app's topic from
 * the subject (Apple names the bundle id as UID, else CN), or null.
 */
export function checkApnsCertificate(certPem: string, keyPem: string, passphrase: string | undefined, production: boolean): string | null {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new CertificateError('no certificate');
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey({ key: keyPem, passphrase });
  } catch {
    throw new CertificateError(passphrase ? 'no private key, or the wrong password' : 'no private key (or it is encrypted and needs its password)');
  }
  if (!certificate.checkPrivateKey(key)) throw new CertificateError('the certificate and the key do not match');
  if (Date.parse(certificate.validTo) < Date.now()) throw new CertificateError(`the certificate expired on ${new Date(certificate.validTo).toISOString()}`);
  if (!certificate.raw.includes(oidBytes(production ? ENVIRONMENT_OID.production : ENVIRONMENT_OID.sandbox))) throw new CertificateError(`the certificate is not for APNS's ${production ? 'production' : 'development (sandbox)'} environment`);
  const subject = certificate.subject;
  return /(?:^|\n)UID=([^\n]+)/.exec(subject)?.[1] ?? /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1] ?? null;
}
