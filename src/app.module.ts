import { DynamicModule, Global, Module } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { STRATA_CONFIG, type StrataConfig } from './config/config';
import { StorageModule } from './storage/storage.module';

@Global()
@Module({})
class ConfigModule {
  static forConfig(config: StrataConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: STRATA_CONFIG, useValue: config }], exports: [STRATA_CONFIG] };
  }
}

/** The gateway: configuration, the storage manager, and its front ends. */
@Module({})
export class AppModule {
  static forConfig(config: StrataConfig): DynamicModule {
    return { module: AppModule, imports: [ConfigModule.forConfig(config), StorageModule, ApiModule] };
  }
}
