import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils, type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { loadOrCreateHostKey, newEd25519Key } from './host-key-file';

const dir = () => mkdtempSync(join(tmpdir(), 'strata-hostkey-'));

function hasSshKeygen(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v ssh-keygen'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function parse(text: string): ParsedKey {
  const key = utils.parseKey(text);
  if (key instanceof Error) throw key;
  return key;
}

describe('newEd25519Key', () => {
  it('writes an OpenSSH private key that ssh2 reads back, public half included', () => {
    const key = newEd25519Key('gw1');
    const parsed = parse(key.privateKey);
    expect(parsed.type).toBe('ssh-ed25519');
    expect(parsed.isPrivateKey()).toBe(true);
    expect(parsed.comment).toBe('gw1');
    expect(`ssh-ed25519 ${parsed.getPublicSSH().toString('base64')}`).toBe(key.publicKey);
    expect(parse(key.publicKey).verify(Buffer.from('hello'), parsed.sign(Buffer.from('hello')))).toBe(true);
  });

  it('keeps public keys that start with a zero byte whole (ssh2 own keygen drops that byte)', () => {
    let key = newEd25519Key('z');
    for (let i = 0; i < 20_000 && Buffer.from(key.publicKey.split(' ')[1], 'base64')[19] !== 0; i++) key = newEd25519Key('z');
    const blob = Buffer.from(key.publicKey.split(' ')[1], 'base64');
    expect(blob[19]).toBe(0);
    expect(blob).toHaveLength(51);
    expect(parse(key.privateKey).getPublicSSH()).toEqual(blob);
  });

  it.skipIf(!hasSshKeygen())('is read by ssh-keygen, which derives the same public key', () => {
    const file = join(dir(), 'k');
    const key = newEd25519Key('gw1');
    writeFileSync(file, key.privateKey, { mode: 0o600 });
    expect(execFileSync('ssh-keygen', ['-y', '-f', file]).toString().trim()).toBe(`${key.publicKey} gw1`);
  });
});

describe('loadOrCreateHostKey', () => {
  it('makes the key once, owner-only, with a .pub beside it, and loads the same one afterwards', async () => {
    const file = join(dir(), 'ssh_host_ed25519_key');
    const first = await loadOrCreateHostKey(file);
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${file}.pub`, 'utf8')).toBe(`${first.publicKey} strata host key\n`);
    expect(first.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const again = await loadOrCreateHostKey(file);
    expect(again).toEqual({ ...first, created: false });
  });

  it('refuses a file that is not an Ed25519 private key rather than replacing it', async () => {
    const file = join(dir(), 'ssh_host_ed25519_key');
    writeFileSync(file, 'not a key');
    await expect(loadOrCreateHostKey(file)).rejects.toThrow(/ssh_host_ed25519_key is not an unencrypted OpenSSH Ed25519 private key.*move it away/);
    expect(readFileSync(file, 'utf8')).toBe('not a key');
    writeFileSync(file, newEd25519Key('x').publicKey);
    await expect(loadOrCreateHostKey(file)).rejects.toThrow(/public key/);
  });
});
