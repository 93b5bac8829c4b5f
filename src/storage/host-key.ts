import { createHash, createPublicKey } from 'node:crypto';
import { InvalidArgument } from '../common/errors';

const SSH_TYPE = 'ssh-ed25519';

function sshBlob(raw: Buffer): Buffer {
  const type = Buffer.from(SSH_TYPE);
  const out = Buffer.alloc(4 + type.length + 4 + raw.length);
  out.writeUInt32BE(type.length, 0);
  type.copy(out, 4);
  out.writeUInt32BE(raw.length, 4 + type.length);
  raw.copy(out, 8 + type.length);
  return out;
}

function rawFromSshBlob(blob: Buffer): Buffer | null {
  if (blob.length < 8) return null;
  const typeLen = blob.readUInt32BE(0);
  if (typeLen !== SSH_TYPE.length || blob.subarray(4, 4 + typeLen).toString() !== SSH_TYPE) return null;
  const keyLen = blob.readUInt32BE(4 + typeLen);
  if (keyLen !== 32 || blob.length !== 8 + typeLen + keyLen) return null;
  return blob.subarray(8 + typeLen);
}

export interface HostKey {
  /** The 32-byte Ed25519 public key. */
  raw: Buffer;
  /** `ssh-ed25519 <base64>`, the form kept in the catalog. */
  openssh: string;
  /** `SHA256:<base64>`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/**
 * Accept a host's Ed25519 public key as OpenSSH text (`ssh-ed25519 AAAA… comment`,
 * what `strata-client keygen` prints), a PEM SPKI block, or the raw 32 bytes in
 * base64 or hex.
 */
export function parseHostKey(text: unknown): HostKey {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new InvalidArgument('publicKey is required: an Ed25519 key such as the output of strata-client keygen', 'publicKey');
  }
  const input = text.trim();
  let raw: Buffer | null = null;
  if (input.startsWith('ssh-')) {
    const [type, b64] = input.split(/\s+/);
    if (type !== SSH_TYPE) throw new InvalidArgument(`publicKey must be an Ed25519 key (ssh-ed25519), not ${type}`, 'publicKey');
    raw = rawFromSshBlob(Buffer.from(b64 ?? '', 'base64'));
  } else if (input.startsWith('-----BEGIN')) {
    try {
      const key = createPublicKey(input);
      if (key.asymmetricKeyType !== 'ed25519') {
        throw new InvalidArgument(`publicKey must be an Ed25519 key, not ${key.asymmetricKeyType}`, 'publicKey');
      }
      raw = Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
    } catch (e) {
      if (e instanceof InvalidArgument) throw e;
      raw = null;
    }
  } else if (/^[0-9a-f]{64}$/i.test(input)) {
    raw = Buffer.from(input, 'hex');
  } else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(input)) {
    raw = Buffer.from(input, input.includes('-') || input.includes('_') ? 'base64url' : 'base64');
  }
  if (!raw || raw.length !== 32) {
    throw new InvalidArgument('publicKey is not a valid Ed25519 public key (expected "ssh-ed25519 AAAA…", PEM, or 32 bytes in base64/hex)', 'publicKey');
  }
  const blob = sshBlob(raw);
  return {
    raw: Buffer.from(raw),
    openssh: `${SSH_TYPE} ${blob.toString('base64')}`,
    fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
  };
}
