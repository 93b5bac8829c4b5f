import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SanService } from '../../src/san/san.service';
import type { TestGateway } from './gateway';

/** A fresh Ed25519 host key: the private key for the client, the public one as the gateway registers it. */
export function hostKeyPair(): { privateKey: KeyObject; publicPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

/** The SAN address of an in-process test gateway (it binds port 0). */
export function sanAddress(gw: TestGateway): string {
  const a = gw.app.get(SanService).address();
  if (!a) throw new Error('the SAN target is not listening');
  return `127.0.0.1:${a.port}`;
}

/** POST/PATCH/DELETE against the API, failing loudly on an error status; T is what the call answers. */
export async function admin<T = Record<string, unknown>>(gw: TestGateway, method: string, path: string, json?: unknown): Promise<T> {
  const res = await gw.api(path, { method, ...(json === undefined ? {} : { json }) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}
