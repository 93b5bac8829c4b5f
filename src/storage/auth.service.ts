import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource, LessThan, Repository } from 'typeorm';
import { Conflict, InUse, InvalidArgument, NameTaken, NotFound, Unauthenticated } from '../common/errors';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { parseAdminKey, sshFingerprint, verifyKeyProof, type KeyProof } from './admin-key';
import { AuditService } from './audit.service';
import type { Actor } from './domain';
import { AdminSshKeyEntity, AdminUserEntity, ApiTokenEntity } from './entities';
import { newId, now } from './lookup';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password';

export interface Session {
  token: string;
  username: string;
  expiresAt: string;
}

export interface AdminUserInfo {
  id: string;
  username: string;
  createdAt: string;
  lastLoginAt: string | null;
}

/** An admin's SSH public key, for the admin shell. */
export interface AdminKeyInfo {
  id: string;
  username: string;
  name: string;
  type: string;
  /** `<type> <base64>`, without the comment. */
  publicKey: string;
  fingerprint: string;
  createdAt: string;
}

export interface AddKey {
  publicKey: string;
  /** A label; default: the comment on the key line (user@host), else the key type. */
  name?: string;
}

const USERNAME_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;
const KEY_NAME_RE = /^[^\x00-\x1f\x7f]{1,64}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < 8) {
    throw new InvalidArgument('password must be at least 8 characters', 'password');
  }
  return password;
}

/** Admin accounts (scrypt hashes), their SSH keys, and bearer tokens (only their SHA-256 is stored). */
@Injectable()
export class AuthService {
  private readonly users: Repository<AdminUserEntity>;
  private readonly tokens: Repository<ApiTokenEntity>;
  private readonly keys: Repository<AdminSshKeyEntity>;

  constructor(
    ds: DataSource,
    private readonly audit: AuditService,
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
  ) {
    this.users = ds.getRepository(AdminUserEntity);
    this.tokens = ds.getRepository(ApiTokenEntity);
    this.keys = ds.getRepository(AdminSshKeyEntity);
  }

  /** First start: make the bootstrap admin. Returns the password only when it was generated here. */
  async ensureBootstrapAdmin(): Promise<{ username: string; generatedPassword?: string } | null> {
    if ((await this.users.count()) > 0) return null;
    const username = this.config.admin.username;
    const generated = this.config.admin.password ? undefined : randomBytes(15).toString('base64url');
    await this.users.insert({
      id: newId(),
      username,
      passwordHash: await hashPassword(this.config.admin.password ?? generated!),
      createdAt: now(),
      lastLoginAt: null,
    });
    await this.audit.record({ name: 'system', source: 'bootstrap' }, 'user.create', { type: 'user', name: username }, 'success');
    return { username, generatedPassword: generated };
  }

  /** The admin with this username and password, or null; an unknown name costs the same scrypt as a known one. */
  private async passwordOwner(username: unknown, password: unknown): Promise<AdminUserEntity | null> {
    const user = typeof username === 'string' ? await this.users.findOne({ where: { username } }) : null;
    const ok =
      typeof password === 'string' &&
      (user ? await verifyPassword(password, user.passwordHash) : (await verifyPassword(password, await DUMMY_HASH_PROMISE), false));
    return ok ? user : null;
  }

  async login(username: string, password: string, source?: string): Promise<Session> {
    const actor = { name: typeof username === 'string' ? username : '?', source };
    const user = await this.passwordOwner(username, password);
    if (!user) {
      await this.audit.record(actor, 'auth.login', { type: 'user', name: actor.name }, 'failure', { errorCode: 'UNAUTHENTICATED' });
      throw new Unauthenticated('wrong username or password');
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.config.admin.tokenTtlSeconds * 1000).toISOString();
    await this.tokens.insert({ id: newId(), tokenHash: sha256(token), userId: user.id, createdAt: now(), expiresAt, source: source ?? null });
    await this.users.update(user.id, { lastLoginAt: now() });
    await this.tokens.delete({ expiresAt: LessThan(now()) });
    await this.audit.record(actor, 'auth.login', { type: 'user', id: user.id, name: user.username }, 'success');
    return { token, username: user.username, expiresAt };
  }

  /** The admin a bearer token belongs to; Unauthenticated when unknown or expired. */
  async authenticate(token: string): Promise<{ userId: string; username: string; expiresAt: string }> {
    if (!token) throw new Unauthenticated();
    const row = await this.tokens.findOne({ where: { tokenHash: sha256(token) } });
    if (!row) throw new Unauthenticated('invalid or revoked token: log in again');
    if (row.expiresAt <= now()) {
      await this.tokens.delete(row.id);
      throw new Unauthenticated('session expired: log in again');
    }
    const user = await this.users.findOne({ where: { id: row.userId } });
    if (!user) throw new Unauthenticated('the account of this token no longer exists');
    return { userId: user.id, username: user.username, expiresAt: row.expiresAt };
  }

  /** The SSH shell's password login: checked like login() but no token is made; audited as shell.login. */
  async verifyCredentials(username: string, password: string, source: string): Promise<AdminUserInfo> {
    const actor = { name: typeof username === 'string' ? username : '?', source };
    const user = await this.passwordOwner(username, password);
    if (!user) {
      await this.audit.record(actor, 'shell.login', { type: 'user', name: actor.name }, 'failure', {
        errorCode: 'UNAUTHENTICATED',
        detail: { method: 'password' },
      });
      throw new Unauthenticated('wrong username or password');
    }
    return this.shellLoggedIn(user, actor, { method: 'password' });
  }

  /** Whether this admin registered this key: SSH asks before the client signs anything, so nothing is audited. */
  async hasKey(username: string, blob: Buffer): Promise<boolean> {
    return (await this.keyOf(username, blob)) !== null;
  }

  /** The SSH shell's public-key login: the key must be this admin's and `proof` signed by it; audited as shell.login. */
  async verifyKeyLogin(username: string, blob: Buffer, proof: KeyProof, source: string): Promise<AdminUserInfo> {
    const actor = { name: username, source };
    const fingerprint = sshFingerprint(blob);
    const found = await this.keyOf(username, blob);
    if (!found || !verifyKeyProof(found.key.publicKey, proof)) {
      await this.audit.record(actor, 'shell.login', { type: 'user', name: username }, 'failure', {
        errorCode: 'UNAUTHENTICATED',
        detail: { method: 'publickey', fingerprint },
      });
      throw new Unauthenticated('public key not accepted');
    }
    return this.shellLoggedIn(found.user, actor, { method: 'publickey', key: found.key.name, fingerprint });
  }

  /** Whether the account still exists: a shell session ends when its admin is removed. */
  async isAdmin(username: string): Promise<boolean> {
    return (await this.users.count({ where: { username } })) > 0;
  }

  private async keyOf(username: string, blob: Buffer): Promise<{ user: AdminUserEntity; key: AdminSshKeyEntity } | null> {
    const key = await this.keys.findOne({ where: { fingerprint: sshFingerprint(blob) } });
    if (!key) return null;
    const user = await this.users.findOne({ where: { id: key.userId } });
    if (!user || user.username !== username) return null;
    const stored = Buffer.from(key.publicKey.split(' ')[1], 'base64');
    return stored.length === blob.length && timingSafeEqual(stored, blob) ? { user, key } : null;
  }

  private async shellLoggedIn(user: AdminUserEntity, actor: Actor, detail: Record<string, unknown>): Promise<AdminUserInfo> {
    const lastLoginAt = now();
    await this.users.update(user.id, { lastLoginAt });
    await this.audit.record(actor, 'shell.login', { type: 'user', id: user.id, name: user.username }, 'success', { detail });
    return { id: user.id, username: user.username, createdAt: user.createdAt, lastLoginAt };
  }

  async logout(actor: Actor, token: string): Promise<void> {
    await this.tokens.delete({ tokenHash: sha256(token) });
    await this.audit.record(actor, 'auth.logout', { type: 'user', name: actor.name }, 'success');
  }

  async listUsers(): Promise<AdminUserInfo[]> {
    return (await this.users.find({ order: { createdAt: 'ASC' } })).map(({ id, username, createdAt, lastLoginAt }) => ({
      id,
      username,
      createdAt,
      lastLoginAt,
    }));
  }

  createUser(actor: Actor, username: string, password: string): Promise<AdminUserInfo> {
    return this.audit.audited(actor, 'user.create', { type: 'user', name: username }, async () => {
      if (typeof username !== 'string' || !USERNAME_RE.test(username)) {
        throw new InvalidArgument('username must be 1-32 lower-case letters, digits, _ . or -, starting with a letter or _', 'username');
      }
      checkPassword(password);
      if (await this.users.findOne({ where: { username } })) throw new NameTaken('user', username);
      const row = { id: newId(), username, passwordHash: await hashPassword(password), createdAt: now(), lastLoginAt: null };
      await this.users.insert(row);
      return { id: row.id, username, createdAt: row.createdAt, lastLoginAt: null };
    }, (u) => ({ type: 'user', id: u.id, name: u.username }));
  }

  removeUser(actor: Actor, username: string): Promise<void> {
    return this.audit.audited(actor, 'user.delete', { type: 'user', name: username }, async () => {
      const user = await this.users.findOne({ where: { username } });
      if (!user) throw new NotFound('user', username);
      if (username === actor.name) throw new InUse('user', username, 'your own session (log in as another admin to remove it)');
      if ((await this.users.count()) === 1) throw new Conflict('LAST_ADMIN', 'the last admin account cannot be removed');
      await this.users.delete(user.id);
    });
  }

  changePassword(actor: Actor, username: string, current: string | undefined, next: string): Promise<void> {
    return this.audit.audited(actor, 'user.password', { type: 'user', name: username }, async () => {
      const user = await this.users.findOne({ where: { username } });
      if (!user) throw new NotFound('user', username);
      // Changing one's own password needs the current one; another admin's does not.
      if (username === actor.name && !(typeof current === 'string' && (await verifyPassword(current, user.passwordHash)))) {
        throw new Unauthenticated('the current password is wrong');
      }
      await this.users.update(user.id, { passwordHash: await hashPassword(checkPassword(next)) });
      await this.tokens.delete({ userId: user.id });
    });
  }

  async listKeys(username: string): Promise<AdminKeyInfo[]> {
    const user = await this.user(username);
    const rows = await this.keys.find({ where: { userId: user.id }, order: { createdAt: 'ASC' } });
    return rows.map((k) => keyInfo(k, user.username));
  }

  addKey(actor: Actor, username: string, req: AddKey): Promise<AdminKeyInfo> {
    // Filled in once the key is parsed, so the audit entry names the key by its fingerprint.
    const detail: Record<string, unknown> = {};
    return this.audit.audited(actor, 'user.key.add', { type: 'user', name: username }, async () => {
      const user = await this.user(username);
      const key = parseAdminKey(req.publicKey);
      const name = (req.name ?? (key.comment || key.type)).trim();
      Object.assign(detail, { name, fingerprint: key.fingerprint });
      if (!KEY_NAME_RE.test(name)) throw new InvalidArgument('name must be 1-64 printable characters', 'name');
      const taken = await this.keys.findOne({ where: { fingerprint: key.fingerprint } });
      if (taken) {
        const owner = await this.users.findOne({ where: { id: taken.userId } });
        throw new Conflict('KEY_TAKEN', `this key (${key.fingerprint}) is already registered for admin '${owner?.username ?? taken.userId}'`, {
          fingerprint: key.fingerprint,
        });
      }
      const row = this.keys.create({ id: newId(), userId: user.id, name, publicKey: key.openssh, fingerprint: key.fingerprint, createdAt: now() });
      await this.keys.insert(row);
      return keyInfo(row, user.username);
    }, undefined, detail);
  }

  removeKey(actor: Actor, username: string, id: string): Promise<void> {
    const detail: Record<string, unknown> = { key: id };
    return this.audit.audited(actor, 'user.key.remove', { type: 'user', name: username }, async () => {
      const user = await this.user(username);
      const row = await this.keys.findOne({ where: { id, userId: user.id } });
      if (!row) throw new NotFound('key', id);
      Object.assign(detail, { name: row.name, fingerprint: row.fingerprint });
      await this.keys.delete(row.id);
    }, undefined, detail);
  }

  private async user(username: string): Promise<AdminUserEntity> {
    const user = await this.users.findOne({ where: { username } });
    if (!user) throw new NotFound('user', username);
    return user;
  }
}

function keyInfo(row: AdminSshKeyEntity, username: string): AdminKeyInfo {
  return {
    id: row.id,
    username,
    name: row.name,
    type: row.publicKey.split(' ')[0],
    publicKey: row.publicKey,
    fingerprint: row.fingerprint,
    createdAt: row.createdAt,
  };
}
