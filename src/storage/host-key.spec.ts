import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../common/errors';
import { parseHostKey } from './host-key';

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== undefined && (e as { code?: string }).code !== 'ENOENT';
  }
}

describe('parseHostKey', () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();

  it('reads PEM, base64, base64url and hex forms of the same key alike', () => {
    const forms = [pem, raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')];
    const parsed = forms.map(parseHostKey);
    for (const p of parsed) {
      expect(p.raw.equals(raw)).toBe(true);
      expect(p.openssh).toBe(parsed[0].openssh);
    }
    expect(parseHostKey(parsed[0].openssh + ' host@example').fingerprint).toBe(parsed[0].fingerprint);
  });

  it.runIf(hasSshKeygen())('matches OpenSSH: same key text and fingerprint as ssh-keygen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'h1', '-f', join(dir, 'k')]);
    const text = readFileSync(join(dir, 'k.pub'), 'utf8');
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'k.pub')]).toString().split(/\s+/)[1];
    const key = parseHostKey(text);
    expect(key.openssh).toBe(text.trim().split(' ').slice(0, 2).join(' '));
    expect(key.fingerprint).toBe(fp);
  });

  it.each([
    ['', /required/],
    ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ', /Ed25519.*ssh-rsa/],
    ['ssh-ed25519 AAAA', /not a valid/],
    ['hello', /not a valid/],
    ['-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----', /not a valid/],
  ])('rejects %j', (text, msg) => {
    expect(() => parseHostKey(text)).toThrow(InvalidArgument);
    expect(() => parseHostKey(text)).toThrow(msg);
  });

  it('rejects an RSA PEM key by name', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => parseHostKey(rsa)).toThrow(/Ed25519.*rsa/);
  });
});
