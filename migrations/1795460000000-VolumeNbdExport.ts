import { MigrationInterface, QueryRunner } from 'typeorm';

/** Whether the gateway exports a volume over NBD on loopback (for VMs on the gateway host). */
export class VolumeNbdExport1795460000000 implements MigrationInterface {
  name = 'VolumeNbdExport1795460000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE volumes ADD COLUMN nbd_export INTEGER NOT NULL DEFAULT 0 CHECK (nbd_export IN (0, 1))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE volumes DROP COLUMN nbd_export`);
  }
}
