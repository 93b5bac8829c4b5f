import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { ListenerRegistry } from './common/listeners';
import type { PinoLogger } from './common/logger';
import type { StrataConfig } from './config/config';

/** The web console's built files (web/dist), served at / for any path outside the API. */
export const CONSOLE_DIR = join(packageRoot(__dirname), 'web', 'dist');

/** The folder holding package.json above `dir`: the same from src/ (tests) and dist/src/ (built). */
function packageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return dir;
  }
}

function serveConsole(app: NestExpressApplication): void {
  const index = join(CONSOLE_DIR, 'index.html');
  app.useStaticAssets(CONSOLE_DIR, { index: false, maxAge: '1h', immutable: false });
  // Client-side routes (/volumes, /hosts/...) get the app's index.html; the API keeps its own 404s.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' || /^\/(api|healthz|readyz|metrics)(\/|$)/.test(req.path) || !existsSync(index)) return next();
    res.sendFile(index);
  });
}

/**
 * Build and start the gateway for a configuration. Used by main.ts and by
 * tests, which start it in-process on a temporary data directory.
 */
export async function startGateway(config: StrataConfig, logger: PinoLogger | false): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forConfig(config, logger), {
    logger: logger === false ? false : logger,
    bufferLogs: false,
    abortOnError: false,
  });
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  app.setGlobalPrefix('api/v1', { exclude: ['healthz', 'readyz', 'metrics'] });
  serveConsole(app);
  app.useBodyParser('json', { limit: '1mb' });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Strata gateway')
      .setDescription('Devices, pools, volumes, hosts and assignments of a Strata SAN/NAS gateway')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, doc);
  await app.listen(config.http.port, config.http.host);
  const addr = app.getHttpServer().address() as AddressInfo;
  app.get(ListenerRegistry).listening('rest', `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`);
  return app;
}
