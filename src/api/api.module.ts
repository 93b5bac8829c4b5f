import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { NasModule } from '../nas/nas.module';
import { ServicesModule } from '../services/services.module';
import { AuthController, UsersController } from './auth.controller';
import { BackupsController, BackupTargetsController } from './backups.controller';
import { AuthGuard } from './auth.guard';
import { HealthController } from './health.controller';
import { HttpExceptionFilter } from './http-exception.filter';
import { ImageController } from './image.controller';
import { JobsController } from './jobs.controller';
import { MirrorsController } from './mirrors.controller';
import { ReplicaController, ReplicationsController } from './replications.controller';
import { RequestLogMiddleware } from './request-log.middleware';
import { ShareRulesController, SharesController } from './shares.controller';
import { ConsistencyGroupsController, SnapshotSchedulesController, SnapshotsController } from './snapshots.controller';
import {
  AssignmentsController,
  AuditController,
  DevicesController,
  HostsController,
  PoolsController,
  VolumesController,
} from './resources.controller';

/** The REST API under /api/v1: thin controllers over the storage manager's services. */
@Module({
  imports: [NasModule, ServicesModule],
  controllers: [
    HealthController,
    AuthController,
    UsersController,
    DevicesController,
    PoolsController,
    VolumesController,
    SnapshotsController,
    ConsistencyGroupsController,
    SnapshotSchedulesController,
    ImageController,
    MirrorsController,
    ReplicationsController,
    ReplicaController,
    JobsController,
    BackupTargetsController,
    BackupsController,
    SharesController,
    ShareRulesController,
    HostsController,
    AssignmentsController,
    AuditController,
  ],
  providers: [
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
  ],
})
export class ApiModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Every route, also those outside the /api/v1 prefix (/healthz, /readyz, /metrics).
    consumer.apply(RequestLogMiddleware).forRoutes('/{*path}');
  }
}
