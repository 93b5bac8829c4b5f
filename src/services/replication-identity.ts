import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHostKey } from '../storage/host-key';

/** The gateway's replication identity: how it logs in to target gateways as a SAN host. */
export interface ReplicationIdentity {
  privateKey: KeyObject;
  /** `ssh-ed25519 <base64>`: what the target's admin registers with `strata host add`. */
  publicKey: string;
  /** `SHA256:…` of the public key. */
  fingerprint: string;
  /** Whether this call made it. */
  created: boolean;
}

export const IDENTITY_FILE = 'replication_ed25519.pem';

/**
 * The replication key pair under the data directory: Ed25519, PKCS#8 PEM,
 * mode 0600, made on first use and the same afterwards (like the SSH host
 * key), so a target that registered it keeps accepting it. A file that is
 * not such a key is an error, never overwritten.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<ReplicationIdentity> {
  const file = join(dataDir, IDENTITY_FILE);
  let pem: string;
  let created = false;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const fresh = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    try {
      await writeFile(file, fresh, { mode: 0o600, flag: 'wx' });
      pem = fresh;
      created = true;
    } catch (err) {
      // Another caller made it between our read and our write: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      pem = await readFile(file, 'utf8');
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new Error(`${file} is not a PEM private key (${(e as Error).message}); move it away to have a new one made`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} holds a ${privateKey.asymmetricKeyType} key, not Ed25519; move it away to have a new one made`);
  const pub = parseHostKey(createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString());
  return { privateKey, publicKey: pub.openssh, fingerprint: pub.fingerprint, created };
}
