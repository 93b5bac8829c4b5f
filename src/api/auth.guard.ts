import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Unauthenticated } from '../common/errors';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import type { Actor } from '../storage/domain';
import { AuthService } from '../storage/auth.service';

const PUBLIC = 'strata:public';
type PublicWhen = (config: StrataConfig) => boolean;
/** Routes anyone may call: health, readiness, login; with `when`, only while the configuration says so (/metrics). */
export const Public = (when?: PublicWhen) => SetMetadata(PUBLIC, when ?? true);

export interface AuthedRequest extends Request {
  actor: Actor;
  token: string;
}

export function clientAddress(req: Request): string {
  return req.socket.remoteAddress ?? req.ip ?? 'unknown';
}

export function bearerToken(req: Request): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.toLowerCase().startsWith('bearer ')) return h.slice(7).trim();
  return null;
}

/** Every route needs a valid admin token unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const open = this.reflector.getAllAndOverride<true | PublicWhen | undefined>(PUBLIC, [ctx.getHandler(), ctx.getClass()]);
    if (open === true || (open !== undefined && open(this.config))) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(req);
    if (!token) throw new Unauthenticated('authentication required: send Authorization: Bearer <token> from POST /api/v1/auth/login');
    const session = await this.auth.authenticate(token);
    req.actor = { name: session.username, source: `rest:${clientAddress(req)}` };
    req.token = token;
    return true;
  }
}

/** The authenticated admin, for the audit log. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().actor;
});
