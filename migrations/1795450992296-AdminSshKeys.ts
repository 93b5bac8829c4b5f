import { MigrationInterface, QueryRunner } from 'typeorm';

/** SSH public keys of admin accounts, for the admin shell's public-key login. */
export class AdminSshKeys1795450992296 implements MigrationInterface {
  name = 'AdminSshKeys1795450992296';

  async up(q: QueryRunner): Promise<void> {
    // One key belongs to one admin: the fingerprint alone says who is logging in.
    await q.query(`CREATE TABLE admin_ssh_keys (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      public_key TEXT NOT NULL,
      fingerprint TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL)`);
    await q.query(`CREATE INDEX admin_ssh_keys_user ON admin_ssh_keys(user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE admin_ssh_keys`);
  }
}
