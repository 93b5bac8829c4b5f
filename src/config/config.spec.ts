import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

const cwd = () => mkdtempSync(join(tmpdir(), 'strata-config-'));

describe('loadConfig', () => {
  it('gives the embedded defaults with no file and no env', () => {
    const dir = cwd();
    const c = loadConfig({ env: {}, cwd: dir });
    expect(c.dataDir).toBe(join(dir, 'data'));
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.defaultPool).toMatchObject({ enabled: true, name: 'default', deviceSize: 16 * 2 ** 30, pageSize: 2 ** 20 });
    expect(c.admin.password).toBeUndefined();
  });

  it('reads strata.json, and env overrides it', () => {
    const dir = cwd();
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ http: { port: 9000 }, defaultPool: { deviceSize: '1G' } }));
    const c = loadConfig({ env: { STRATA_HTTP_PORT: '9100', STRATA_DEFAULT_PAGE_SIZE: '4M' }, cwd: dir });
    expect(c.http.port).toBe(9100);
    expect(c.defaultPool.deviceSize).toBe(2 ** 30);
    expect(c.defaultPool.pageSize).toBe(4 * 2 ** 20);
  });

  it('reports every bad key by name', () => {
    const dir = cwd();
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ http: { port: 70000 }, bogus: 1, defaultPool: { deviceSize: 'lots' } }));
    let err: unknown;
    try {
      loadConfig({ env: { STRATA_ADMIN_PASSWORD: 'short' }, cwd: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/http\.port/);
    expect(msg).toMatch(/bogus/);
    expect(msg).toMatch(/defaultPool\.deviceSize: .*lots/);
    expect(msg).toMatch(/admin\.password: .*8 characters/);
  });

  it('fails clearly on a missing STRATA_CONFIG file and on bad JSON', () => {
    const dir = cwd();
    expect(() => loadConfig({ env: { STRATA_CONFIG: 'nope.json' }, cwd: dir })).toThrow(/nope\.json.*does not exist/);
    writeFileSync(join(dir, 'strata.json'), '{ not json');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/not valid JSON/);
  });

  it('turns the default pool off with STRATA_DEFAULT_POOL=false', () => {
    expect(loadConfig({ env: { STRATA_DEFAULT_POOL: 'false' }, cwd: cwd() }).defaultPool.enabled).toBe(false);
  });

  it('runs the SSH shell on 127.0.0.1:2222 unless told otherwise', () => {
    expect(loadConfig({ env: {}, cwd: cwd() }).shell).toEqual({ enabled: true, host: '127.0.0.1', port: 2222 });
    const dir = cwd();
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ shell: { host: '0.0.0.0', port: 2022 } }));
    expect(loadConfig({ env: {}, cwd: dir }).shell).toEqual({ enabled: true, host: '0.0.0.0', port: 2022 });
    const env = { STRATA_SHELL_HOST: '::1', STRATA_SHELL_PORT: '0', STRATA_SHELL: 'off' };
    expect(loadConfig({ env, cwd: dir }).shell).toEqual({ enabled: false, host: '::1', port: 0 });
  });

  it('names a bad shell port or switch', () => {
    expect(() => loadConfig({ env: { STRATA_SHELL_PORT: 'ssh' }, cwd: cwd() })).toThrow(/shell\.port/);
    const dir = cwd();
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ shell: { enabled: 'yes' } }));
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/shell\.enabled/);
  });

  it('serves /metrics publicly and samples stats every second unless told otherwise', () => {
    expect(loadConfig({ env: {}, cwd: cwd() }).metrics).toEqual({ public: true, statsIntervalMs: 1000 });
    const dir = cwd();
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ metrics: { public: false } }));
    expect(loadConfig({ env: {}, cwd: dir }).metrics.public).toBe(false);
    expect(loadConfig({ env: { STRATA_METRICS_PUBLIC: 'no', STRATA_STATS_INTERVAL_MS: '250' }, cwd: cwd() }).metrics).toEqual({ public: false, statsIntervalMs: 250 });
    expect(() => loadConfig({ env: { STRATA_STATS_INTERVAL_MS: '0' }, cwd: cwd() })).toThrow(/metrics\.statsIntervalMs/);
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ metrics: { public: 'false' } }));
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/metrics\.public/);
  });
  it('listens for SAN on more addresses from san.addresses or STRATA_SAN_ADDRESSES, and names a bad one', () => {
    expect(loadConfig({ env: {}, cwd: cwd() }).san.addresses).toEqual([]);
    const dir = cwd();
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ san: { addresses: ['10.0.0.5:7700', '[fd00::5]:7701'] } }));
    expect(loadConfig({ env: {}, cwd: dir }).san.addresses).toEqual(['10.0.0.5:7700', '[fd00::5]:7701']);
    expect(loadConfig({ env: { STRATA_SAN_ADDRESSES: '127.0.0.1:7701, 127.0.0.2:7700' }, cwd: dir }).san.addresses).toEqual(['127.0.0.1:7701', '127.0.0.2:7700']);
    expect(() => loadConfig({ env: { STRATA_SAN_ADDRESSES: '127.0.0.1' }, cwd: cwd() })).toThrow(/san\.addresses\.0: must be host:port/);
  });
});
