import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createLogger } from './common/logger';
import { ConfigError, loadConfig, type StrataConfig } from './config/config';
import { startGateway } from './gateway';
import { StorageBootstrapService } from './storage/storage-bootstrap.service';

async function main(): Promise<void> {
  let config: StrataConfig;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`strata: ${e instanceof ConfigError ? e.message : (e as Error).stack}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.log.level);
  logger.pino.info({ dataDir: config.dataDir }, 'starting the Strata gateway');
  const app = await startGateway(config, logger);
  const addr = app.getHttpServer().address() as AddressInfo;
  const base = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  logger.pino.info({ listener: 'rest', url: `${base}/api/v1`, docs: `${base}/api/docs` }, `REST API listening on ${base}/api/v1`);

  const admin = app.get(StorageBootstrapService).bootstrapAdmin;
  if (admin?.generatedPassword) {
    // Printed once, never stored: the catalog keeps only its scrypt hash.
    process.stdout.write(
      [
        '',
        '  ================================================================',
        '  Strata first start: bootstrap admin account created',
        `    username: ${admin.username}`,
        `    password: ${admin.generatedPassword}`,
        '  This password is shown only now. Log in with:',
        `    strata --url ${base} login ${admin.username}`,
        '  ================================================================',
        '',
      ].join('\n') + '\n',
    );
  }
}

main().catch((e) => {
  process.stderr.write(`strata: failed to start: ${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
