import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { utils } from 'ssh2';
import { sshFingerprint } from '../storage/admin-key';

export interface ShellHostKey {
  /** OpenSSH private key text, as ssh2's Server takes it. */
  privateKey: string;
  /** `ssh-ed25519 <base64>`, what clients put in known_hosts. */
  publicKey: string;
  /** `SHA256:…`, as ssh-keygen -l and the ssh client print it. */
  fingerprint: string;
  /** Whether this start generated it. */
  created: boolean;
}

/**
 * The gateway's SSH host key: made once (Ed25519, unencrypted OpenSSH
 * format, mode 0600) and the same at every later start, so clients that
 * trusted it once keep trusting it. The public half is written next to it
 * as <file>.pub for known_hosts. A file that is not such a key is an error,
 * never overwritten.
 */
export async function loadOrCreateHostKey(file: string, comment = 'strata host key'): Promise<ShellHostKey> {
  let text: string;
  let created = false;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const key = newEd25519Key(comment);
    try {
      await writeFile(file, key.privateKey, { mode: 0o600, flag: 'wx' });
      await writeFile(`${file}.pub`, `${key.publicKey} ${comment}\n`, { mode: 0o644 });
      text = key.privateKey;
      created = true;
    } catch (err) {
      // Another process made it between our read and our write: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      text = await readFile(file, 'utf8');
    }
  }
  const key = utils.parseKey(text);
  if (key instanceof Error || !key.isPrivateKey() || key.type !== 'ssh-ed25519') {
    const why = key instanceof Error ? key.message : `a ${key.type}${key.isPrivateKey() ? '' : ' public'} key`;
    throw new Error(`${file} is not an unencrypted OpenSSH Ed25519 private key (${why}); move it away to have a new one made`);
  }
  const blob = key.getPublicSSH();
  return { privateKey: text, publicKey: `ssh-ed25519 ${blob.toString('base64')}`, fingerprint: sshFingerprint(blob), created };
}

/** RFC 4251 `string`: a uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * A new Ed25519 key from node:crypto, written in the unencrypted
 * openssh-key-v1 format (OpenSSH's PROTOCOL.key), which ssh2 and ssh-keygen read.
 */
export function newEd25519Key(comment: string): { privateKey: string; publicKey: string } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d as string, 'base64url');
  const pub = Buffer.from(jwk.x as string, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  // The same random check word twice lets a reader tell a wrong passphrase; with no cipher it is just there.
  const check = randomBytes(4);
  let secret = Buffer.concat([check, check, blob, sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const pad = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const one = Buffer.alloc(4);
  one.writeUInt32BE(1);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    one,
    sshString(blob),
    sshString(secret),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g)!;
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${blob.toString('base64')}`,
  };
}
