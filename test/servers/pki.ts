import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/**
 * A throwaway PKI for the local push services: a CA, a server certificate for localhost and
 * 127.0.0.1, an APNS client certificate (PEM and P12), an APNS .p8 signing key and an FCM
 * service account. `npm test` creates it once under test-artifacts/pki and starts every test
 * process with NODE_EXTRA_CA_CERTS pointing at the CA, as an operator would for a private
 * push service.
 */
export interface Pki {
  dir: string;
  caPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  clientKeyPem: string;
  clientCertPem: string;
  /** base64 P12 of the client certificate and key, passphrase P12_PASSPHRASE. */
  clientP12: string;
  /** APNS token-auth signing key (P-256, PKCS#8 PEM, like a .p8 file). */
  apnsKeyPem: string;
  serviceAccountKeyPem: string;
}

export const P12_PASSPHRASE = 'pushwire-test';

const FILES = ['ca.pem', 'server-key.pem', 'server-cert.pem', 'client-key.pem', 'client-cert.pem', 'client.p12.b64', 'apns-key.p8', 'service-account-key.pem'] as const;

function rsaKeys(): { privateKey: string; forgeKeys: { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.PublicKey } } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  return { privateKey, forgeKeys: { privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey, publicKey: forge.pki.publicKeyFromPem(publicKey) } };
}

function certificate(subject: string, keys: { publicKey: forge.pki.PublicKey }, issuer: { cert: forge.pki.Certificate | null; key: forge.pki.rsa.PrivateKey }, extensions: object[]): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = forge.util.bytesToHex(forge.random.getBytesSync(8)).replace(/^[89a-f]/, '1');
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const attributes = [{ name: 'commonName', value: subject }];
  cert.setSubject(attributes);
  cert.setIssuer(issuer.cert ? issuer.cert.subject.attributes : attributes);
  cert.setExtensions(extensions);
  cert.sign(issuer.key, forge.md.sha256.create());
  return cert;
}

function create(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ca = rsaKeys();
  const caCert = certificate('Pushwire Test CA', ca.forgeKeys, { cert: null, key: ca.forgeKeys.privateKey }, [
    { name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ]);
  const server = rsaKeys();
  const serverCert = certificate('localhost', server.forgeKeys, { cert: caCert, key: ca.forgeKeys.privateKey }, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  const client = rsaKeys();
  // Apple marks push certificates with these extensions (sandbox, production); node-apn checks them.
  const clientCert = certificate('com.example.pushwire', client.forgeKeys, { cert: caCert, key: ca.forgeKeys.privateKey }, [
    { name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', clientAuth: true },
    { id: '1.2.840.113635.100.6.3.1', value: '\x05\x00' }, { id: '1.2.840.113635.100.6.3.2', value: '\x05\x00' },
  ]);
  const p12 = forge.pkcs12.toPkcs12Asn1(client.forgeKeys.privateKey, [clientCert], P12_PASSPHRASE, { algorithm: '3des' });
  const apnsKey = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const serviceAccount = rsaKeys();
  const contents: Record<(typeof FILES)[number], string> = {
    'ca.pem': forge.pki.certificateToPem(caCert),
    'server-key.pem': server.privateKey,
    'server-cert.pem': forge.pki.certificateToPem(serverCert),
    'client-key.pem': client.privateKey,
    'client-cert.pem': forge.pki.certificateToPem(clientCert),
    'client.p12.b64': Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary').toString('base64'),
    'apns-key.p8': apnsKey.privateKey,
    'service-account-key.pem': serviceAccount.privateKey,
  };
  for (const name of FILES) writeFileSync(join(dir, name), contents[name]);
}

export const PKI_DIR_ENV = 'PUSHWIRE_TEST_PKI';

/** Creates the PKI in `dir` unless it is there. */
export function ensurePki(dir: string): void {
  if (!FILES.every((name) => existsSync(join(dir, name)))) create(dir);
}

/** The PKI that `npm test` prepared. */
export function loadPki(): Pki {
  const dir = process.env[PKI_DIR_ENV];
  if (!dir) throw new Error(`${PKI_DIR_ENV} is not set: run the tests with npm test (test/run.ts prepares the PKI)`);
  const read = (name: (typeof FILES)[number]) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    caPem: read('ca.pem'),
    serverKeyPem: read('server-key.pem'),
    serverCertPem: read('server-cert.pem'),
    clientKeyPem: read('client-key.pem'),
    clientCertPem: read('client-cert.pem'),
    clientP12: read('client.p12.b64'),
    apnsKeyPem: read('apns-key.p8'),
    serviceAccountKeyPem: read('service-account-key.pem'),
  };
}
