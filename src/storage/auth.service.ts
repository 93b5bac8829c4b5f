import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, LessThan, Repository } from 'typeorm';
import { Conflict, InUse, InvalidArgument, NameTaken, NotFound, Unauthenticated } from '../common/errors';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { AuditService } from './audit.service';
import type { Actor } from './domain';
import { AdminUserEntity, ApiTokenEntity } from './entities';
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

const USERNAME_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < 8) {
    throw new InvalidArgument('password must be at least 8 characters', 'password');
  }
  return password;
}

/** Admin accounts (scrypt hashes) and bearer tokens (only their SHA-256 is stored). */
@Injectable()
export class AuthService {
  private readonly users: Repository<AdminUserEntity>;
  private readonly tokens: Repository<ApiTokenEntity>;

  constructor(
    ds: DataSource,
    private readonly audit: AuditService,
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
  ) {
    this.users = ds.getRepository(AdminUserEntity);
    this.tokens = ds.getRepository(ApiTokenEntity);
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

  async login(username: string, password: string, source?: string): Promise<Session> {
    const actor = { name: typeof username === 'string' ? username : '?', source };
    const user = typeof username === 'string' ? await this.users.findOne({ where: { username } }) : null;
    const ok =
      typeof password === 'string' &&
      (user ? await verifyPassword(password, user.passwordHash) : (await verifyPassword(password, await DUMMY_HASH_PROMISE), false));
    if (!user || !ok) {
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
}
