import { generateKeyPairSync, sign } from 'node:crypto';
import { utils, type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../common/errors';
import { parseAdminKey, sshFingerprint, verifyKeyProof } from './admin-key';

/** An Ed25519 pair from node:crypto and its OpenSSH public line, built by hand (not by the code under test). */
function ed25519(comment = 'alice@laptop') {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, raw.length]), raw]);
  return { privateKey, blob, line: `ssh-ed25519 ${blob.toString('base64')} ${comment}` };
}

function parsed(text: string): ParsedKey {
  const key = utils.parseKey(text);
  if (key instanceof Error) throw key;
  return key;
}

describe('parseAdminKey', () => {
  it('reads an Ed25519 line: type, canonical form without the comment, blob, fingerprint, comment', () => {
    const k = ed25519();
    expect(parseAdminKey(`  ${k.line}\n`)).toEqual({
      type: 'ssh-ed25519',
      openssh: `ssh-ed25519 ${k.blob.toString('base64')}`,
      blob: k.blob,
      fingerprint: sshFingerprint(k.blob),
      comment: 'alice@laptop',
    });
    expect(parseAdminKey(k.line.split(' ').slice(0, 2).join(' ')).comment).toBe('');
  });

  it('reads RSA (2048 bits and more) and ECDSA lines through ssh2', () => {
    for (const [type, opts] of [['rsa', { bits: 2048 }], ['ecdsa', { bits: 256 }], ['ecdsa', { bits: 384 }]] as const) {
      const pair = utils.generateKeyPairSync(type, { ...opts, comment: 'bob@box' });
      const k = parseAdminKey(pair.public);
      const blob = parsed(pair.public).getPublicSSH();
      expect(k).toEqual({ type: pair.public.split(' ')[0], openssh: pair.public.split(' ').slice(0, 2).join(' '), blob, fingerprint: sshFingerprint(blob), comment: 'bob@box' });
    }
  });

  it('refuses short RSA keys, DSA keys, certificates, private keys and junk, each saying why', () => {
    const small = utils.generateKeyPairSync('rsa', { bits: 1024 }).public;
    expect(() => parseAdminKey(small)).toThrow(/at least 2048 bits; this one has 1024/);
    expect(() => parseAdminKey('ssh-dss AAAAB3NzaC1kc3MAAACBAP')).toThrow(/must be an OpenSSH public key line of type ssh-ed25519, ssh-rsa/);
    expect(() => parseAdminKey('ssh-ed25519-cert-v01@openssh.com AAAA')).toThrow(/got 'ssh-ed25519-cert-v01@openssh.com'/);
    expect(() => parseAdminKey(utils.generateKeyPairSync('ecdsa', { bits: 256 }).private)).toThrow(/private key: give the public key/);
    expect(() => parseAdminKey('ssh-ed25519 AAAAnotbase64!!')).toThrow(/not a valid Ed25519 public key/);
    expect(() => parseAdminKey('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA==')).toThrow(/not a valid ssh-rsa key/);
    expect(() => parseAdminKey('')).toThrow(/publicKey is required/);
    expect(() => parseAdminKey(42)).toThrow(InvalidArgument);
  });
});

describe('verifyKeyProof', () => {
  const data = Buffer.from('session id and userauth request');

  it('accepts an Ed25519 signature by the key and nothing else', () => {
    const k = ed25519();
    const other = ed25519();
    const signature = sign(null, data, k.privateKey);
    const openssh = parseAdminKey(k.line).openssh;
    expect(verifyKeyProof(openssh, { data, signature })).toBe(true);
    expect(verifyKeyProof(openssh, { data: Buffer.from('something else'), signature })).toBe(false);
    expect(verifyKeyProof(parseAdminKey(other.line).openssh, { data, signature })).toBe(false);
  });

  it('checks RSA signatures with the hash the client named, and refuses SHA-1 ones', () => {
    const pair = utils.generateKeyPairSync('rsa', { bits: 2048 });
    const key = parsed(pair.private);
    const openssh = parseAdminKey(pair.public).openssh;
    expect(verifyKeyProof(openssh, { data, signature: key.sign(data, 'sha512'), hashAlgo: 'sha512' })).toBe(true);
    expect(verifyKeyProof(openssh, { data, signature: key.sign(data, 'sha256'), hashAlgo: 'sha512' })).toBe(false);
    expect(verifyKeyProof(openssh, { data, signature: key.sign(data, 'sha1') })).toBe(false);
  });

  it('checks ECDSA signatures', () => {
    const pair = utils.generateKeyPairSync('ecdsa', { bits: 256 });
    const openssh = parseAdminKey(pair.public).openssh;
    expect(verifyKeyProof(openssh, { data, signature: parsed(pair.private).sign(data) })).toBe(true);
    expect(verifyKeyProof(openssh, { data, signature: Buffer.alloc(64) })).toBe(false);
  });
});
