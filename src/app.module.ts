import { DynamicModule, Global, Module } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { JobsModule } from './jobs/jobs.module';
import { ServicesModule } from './services/services.module';
import { PINO, type PinoLogger } from './common/logger';
import { STRATA_CONFIG, type StrataConfig } from './config/config';
import { MetricsModule } from './metrics/metrics.module';
import { NasModule } from './nas/nas.module';
import { NbdModule } from './nbd/nbd.module';
import { SanModule } from './san/san.module';
import { ShellModule } from './shell/shell.module';
import { StorageModule } from './storage/storage.module';

@Global()
@Module({})
class ConfigModule {
  static forConfig(config: StrataConfig, logger: PinoLogger | false): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: STRATA_CONFIG, useValue: config },
        { provide: PINO, useValue: logger === false ? null : logger.pino },
      ],
      exports: [STRATA_CONFIG, PINO],
    };
  }
}

/** The gateway: configuration, the storage manager, and its front ends. */
@Module({})
export class AppModule {
  /** `logger` false: no logs (tests, the bench). */
  static forConfig(config: StrataConfig, logger: PinoLogger | false = false): DynamicModule {
    return { module: AppModule, imports: [ConfigModule.forConfig(config, logger), StorageModule, JobsModule, ServicesModule, ApiModule, MetricsModule, ShellModule, SanModule, NbdModule, NasModule] };
  }
}
