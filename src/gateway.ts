import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import type { PinoLogger } from './common/logger';
import type { StrataConfig } from './config/config';

/**
 * Build and start the gateway for a configuration. Used by main.ts and by
 * tests, which start it in-process on a temporary data directory.
 */
export async function startGateway(config: StrataConfig, logger: PinoLogger | false): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forConfig(config), {
    logger: logger === false ? false : logger,
    bufferLogs: false,
    abortOnError: false,
  });
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  app.setGlobalPrefix('api/v1', { exclude: ['healthz', 'readyz'] });
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
  return app;
}
