import { createHash, createPublicKey } from 'node:crypto';
import { utils } from 'ssh2';
import { InvalidArgument } from '../common/errors';
import { parseHostKey } from './host-key';

/** What OpenSSH 9 offers by default; ssh-dss is obsolete and certificates need a CA this gateway does not have. */
const ACCEPTED = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'];
const MIN_RSA_BITS = 2048;

export interface AdminKey {
  type: string;
  /** `<type> <base64 blob>`, the form kept in the catalog. */
  openssh: string;
  /** The SSH wire encoding of the public key, what a client sends when it logs in. */
  blob: Buffer;
  /** `SHA256:<base64>`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The text after the key on its line (often user@host), '' when none. */
  comment: string;
}

export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

const invalid = (message: string) => new InvalidArgument(message, 'publicKey');

/**
 * An admin's SSH public key, one OpenSSH line (`ssh-ed25519 AAAA… comment`,
 * the contents of a .pub file). Ed25519 goes through the same parser as host
 * keys; RSA (2048 bits or more) and ECDSA through ssh2's.
 */
export function parseAdminKey(text: unknown): AdminKey {
  if (typeof text !== 'string' || text.trim() === '') {
    throw invalid('publicKey is required: an OpenSSH public key line, e.g. the contents of ~/.ssh/id_ed25519.pub');
  }
  const input = text.trim();
  if (input.includes('PRIVATE KEY')) throw invalid('this is a private key: give the public key (the .pub file) instead');
  const [type, b64, ...rest] = input.split(/\s+/);
  if (!ACCEPTED.includes(type)) {
    throw invalid(`publicKey must be an OpenSSH public key line of type ${ACCEPTED.join(', ')}; got '${type.slice(0, 40)}'`);
  }
  const comment = rest.join(' ');
  if (type === 'ssh-ed25519') {
    const key = parseHostKey(`${type} ${b64 ?? ''}`);
    const blob = Buffer.from(key.openssh.split(' ')[1], 'base64');
    return { type, openssh: key.openssh, blob, fingerprint: key.fingerprint, comment };
  }
  const parsed = utils.parseKey(`${type} ${b64 ?? ''}`);
  if (parsed instanceof Error || parsed.type !== type) {
    throw invalid(`publicKey is not a valid ${type} key${parsed instanceof Error ? `: ${parsed.message}` : ''}`);
  }
  if (type === 'ssh-rsa') {
    const bits = createPublicKey(parsed.getPublicPEM()).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw invalid(`RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${bits}`);
  }
  const blob = parsed.getPublicSSH();
  return { type, openssh: `${type} ${blob.toString('base64')}`, blob, fingerprint: sshFingerprint(blob), comment };
}

/** What an SSH client signed to prove it holds a key (RFC 4252 §7), as ssh2 hands it over. */
export interface KeyProof {
  data: Buffer;
  signature: Buffer;
  /** Set for RSA: sha256 or sha512 (rsa-sha2-256/512). */
  hashAlgo?: string;
}

/** Whether `proof` was signed by the private half of `openssh`. */
export function verifyKeyProof(openssh: string, proof: KeyProof): boolean {
  const key = utils.parseKey(openssh);
  if (key instanceof Error) return false;
  // Plain ssh-rsa signatures use SHA-1, which OpenSSH itself has refused since 8.8.
  if (key.type === 'ssh-rsa' && !proof.hashAlgo) return false;
  return key.verify(proof.data, proof.signature, proof.hashAlgo) === true;
}
