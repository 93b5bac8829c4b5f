import { Injectable } from '@nestjs/common';

export interface ListenerState {
  /** `rest`, `ssh`, … */
  name: string;
  /** Where it listens (`127.0.0.1:2222`), once bound. */
  address?: string;
  /** What a client may want to check, e.g. the SSH host key fingerprint. */
  detail?: string;
  /** Why it could not bind. */
  error?: string;
}

/**
 * The gateway's network listeners as they report themselves. A front end
 * that fails to bind does not stop the others; readiness names it instead.
 */
@Injectable()
export class ListenerRegistry {
  private readonly listeners = new Map<string, ListenerState>();

  listening(name: string, address: string, detail?: string): void {
    this.listeners.set(name, { name, address, ...(detail ? { detail } : {}) });
  }

  failed(name: string, error: string): void {
    this.listeners.set(name, { name, error });
  }

  closed(name: string): void {
    this.listeners.delete(name);
  }

  list(): ListenerState[] {
    return [...this.listeners.values()];
  }

  /** One readiness reason per listener that could not bind. */
  failures(): string[] {
    return this.list()
      .filter((l) => l.error !== undefined)
      .map((l) => `${l.name} listener is down: ${l.error}`);
  }
}
