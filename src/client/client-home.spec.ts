import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostKey } from '../storage/host-key';
import { ClientConfigError, ClientHome, clientHomeDir, datagramSizeFor, normalizeGateway } from './client-home';

const fresh = () => new ClientHome(join(mkdtempSync(join(tmpdir(), 'sc-home-')), 'home'));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClientConfigError);
    return (e as ClientConfigError).code;
  }
  return undefined;
}

describe('the client config directory', () => {
  it('is --config-dir, else STRATA_CLIENT_HOME, else XDG_CONFIG_HOME/strata-client, else ~/.config/strata-client', () => {
    const env = { HOME: '/home/u', XDG_CONFIG_HOME: '/x', STRATA_CLIENT_HOME: '/s' };
    expect(clientHomeDir(env, '/flag')).toBe('/flag');
    expect(clientHomeDir(env)).toBe('/s');
    expect(clientHomeDir({ HOME: '/home/u', XDG_CONFIG_HOME: '/x' })).toBe('/x/strata-client');
    expect(clientHomeDir({ HOME: '/home/u', XDG_CONFIG_HOME: '' })).toBe('/home/u/.config/strata-client');
  });

  it('keygen writes an owner-only Ed25519 key whose public half the gateway accepts', () => {
    const home = fresh();
    const made = home.generateKey('web1');
    expect(statSync(home.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(home.dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(home.publicKeyFile, 'utf8')).toBe(`${made.publicKey} web1\n`);
    // What the gateway stores and shows for the line is what keygen printed.
    const parsed = parseHostKey(`${made.publicKey} web1`);
    expect(parsed.openssh).toBe(made.publicKey);
    expect(parsed.fingerprint).toBe(made.fingerprint);
    // And the private key signs what that public key verifies (the login's proof).
    const key = home.loadKey();
    const msg = Buffer.from('transcript');
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: parsed.raw.toString('base64url') }, format: 'jwk' });
    expect(verify(null, msg, pub, sign(null, msg, key))).toBe(true);
  });

  it('will not overwrite a key unless forced', () => {
    const home = fresh();
    const first = home.generateKey('h');
    expect(codeOf(() => home.generateKey('h'))).toBe('KEY_EXISTS');
    expect(home.publicKey()).toEqual(first);
    const second = home.generateKey('h', true);
    expect(second.publicKey).not.toBe(first.publicKey);
  });

  it('refuses a missing, world-readable, non-Ed25519 or garbled key with the fix in the message', () => {
    const home = fresh();
    expect(codeOf(() => home.loadKey())).toBe('NO_KEY');
    home.generateKey('h');
    chmodSync(home.keyFile, 0o640);
    expect(codeOf(() => home.loadKey())).toBe('KEY_UNSAFE');
    expect(() => home.loadKey()).toThrow(/mode 0640.*chmod 600/);
    writeFileSync(home.keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    chmodSync(home.keyFile, 0o600);
    expect(() => home.loadKey()).toThrow(/is a ec key; the SAN needs Ed25519/);
    writeFileSync(home.keyFile, 'not a key');
    expect(codeOf(() => home.loadKey())).toBe('KEY_INVALID');
  });

  it('remembers settings owner-only, and checks them on the way in', () => {
    const home = fresh();
    expect(home.loadSettings()).toEqual({ gateways: [] });
    expect(codeOf(() => home.gateways())).toBe('NOT_LOGGED_IN');
    home.saveSettings({ host: 'h1', gateways: ['10.0.0.1:7700', '[fd00::1]:7701'], sessions: 4, security: 'integrity' });
    expect(statSync(home.settingsFile).mode & 0o777).toBe(0o600);
    expect(home.loadSettings()).toEqual({ host: 'h1', gateways: ['10.0.0.1:7700', '[fd00::1]:7701'], sessions: 4, security: 'integrity' });
    expect(home.gateways()).toEqual(['10.0.0.1:7700', '[fd00::1]:7701']);

    for (const [text, why] of [
      ['{', /not valid JSON/],
      ['[]', /must hold a JSON object/],
      ['{"gateways": "a:1"}', /'gateways' must be a list/],
      ['{"host": 3}', /'host' must be a host name/],
      ['{"sessions": 0}', /'sessions' must be a whole number from 1 to 64/],
      ['{"datagramSize": 70000}', /'datagramSize' must be a whole number from 576 to 65000/],
      ['{"security": "none"}', /'security' must be 'encrypt' or 'integrity'/],
      ['{"gateways": ["a:b:c"]}', /'a:b:c' is not host, host:port/],
    ] as const) {
      writeFileSync(home.settingsFile, text);
      expect(() => home.loadSettings(), text).toThrow(why);
    }
  });

  it('gateway addresses: the SAN port when none is given, IPv6 in brackets, garbage refused', () => {
    expect(normalizeGateway('gw1')).toBe('gw1:7700');
    expect(normalizeGateway(' 10.0.0.1:7800 ')).toBe('10.0.0.1:7800');
    expect(normalizeGateway('[fd00::1]')).toBe('[fd00::1]:7700');
    expect(normalizeGateway('[fd00::1]:7701')).toBe('[fd00::1]:7701');
    for (const bad of ['', 'a:b', 'h:0', 'h:70000', 'fd00::1']) expect(codeOf(() => normalizeGateway(bad)), bad).toBe('BAD_ADDRESS');
  });

  it('asks for 64 KB datagrams only when every path is loopback', () => {
    expect(datagramSizeFor(['127.0.0.1:7700', 'localhost:7701'])).toBe(65_000);
    expect(datagramSizeFor(['127.0.0.1:7700', '10.0.0.2:7700'])).toBe(1452);
    expect(datagramSizeFor(['10.0.0.2:7700'], 9000)).toBe(9000);
  });

  it('names unix socket paths that would not fit', () => {
    const home = new ClientHome(`/tmp/${'x'.repeat(100)}`);
    expect(codeOf(() => home.controlSocket('v'))).toBe('PATH_TOO_LONG');
    expect(fresh().nbdSocket('v')).toMatch(/run\/v\.nbd$/);
  });
});
