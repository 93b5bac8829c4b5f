import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-host SAN security (docs/san-protocol.md, section 5): `encrypt` (the
 * default) refuses integrity-only logins of the host; `integrity` lets it
 * send its data in clear, authenticated, which costs a third of the CPU.
 */
export class HostSecurity1795500000000 implements MigrationInterface {
  name = 'HostSecurity1795500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN security TEXT NOT NULL DEFAULT 'encrypt' CHECK (security IN ('encrypt', 'integrity'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN security`);
  }
}
