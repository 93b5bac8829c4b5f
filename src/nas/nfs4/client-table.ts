import { randomBytes } from 'node:crypto';
import type { channel_attrs4 } from '../../protocols/nfs4/common.codec';
import {
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  CREATE_SESSION4_FLAG_CONN_RDMA,
  CREATE_SESSION4_FLAG_PERSIST,
  EXCHGID4_FLAG_BIND_PRINC_STATEID,
  EXCHGID4_FLAG_CONFIRMED_R,
  EXCHGID4_FLAG_MASK_PNFS,
  EXCHGID4_FLAG_SUPP_MOVED_MIGR,
  EXCHGID4_FLAG_SUPP_MOVED_REFER,
  EXCHGID4_FLAG_UPD_CONFIRMED_REC_A,
  EXCHGID4_FLAG_USE_NON_PNFS,
  nfsstat4,
} from '../../protocols/nfs4/constants';
import type { CREATE_SESSION4args, CREATE_SESSION4resok, EXCHANGE_ID4args, EXCHANGE_ID4resok, SEQUENCE4args } from '../../protocols/nfs4/ops.codec';
import { fail } from './nfs4-status';

/** Where the client owners that may reclaim after a restart are kept (stable storage, RFC 8881 section 8.4.3). */
export interface RecoveryStore {
  load(): string[];
  save(owners: string[]): void;
}

export class MemoryRecoveryStore implements RecoveryStore {
  constructor(public owners: string[] = []) {}
  load(): string[] {
    return [...this.owners];
  }
  save(owners: string[]): void {
    this.owners = [...owners];
  }
}

/** A reply kept in a slot for a retransmission (the COMPOUND4res bytes), or only the SEQUENCE part when too large. */
export interface CachedReply {
  /** The whole reply, or null when it was not kept (a retry gets NFS4ERR_RETRY_UNCACHED_REP). */
  bytes: Buffer[] | null;
}

export class Slot {
  /** The sequence id of the last request run in this slot; a new request carries this + 1. */
  seqid = 0;
  inProgress = false;
  reply: CachedReply | null = null;
  /** What the last request carried after SEQUENCE (checksum, length, cachethis, credential), to tell a retry from a false one. */
  fingerprint = '';
  /** Bytes of the reply kept without the client asking (counted against UNASKED_CACHE_BYTES). */
  unasked = 0;
}

export class Session {
  readonly key: string;
  readonly slots: Slot[];
  /** Destroyed or expired: nothing it keeps is counted any more. */
  closed = false;
  constructor(
    readonly id: Buffer,
    readonly client: Client,
    readonly fore: channel_attrs4,
    readonly back: channel_attrs4,
    readonly flags: number,
  ) {
    this.key = id.toString('hex');
    this.slots = Array.from({ length: fore.ca_maxrequests }, () => new Slot());
  }

  /** Bytes of the reply-cache budget this session's slots reserve for replies the client asks to be kept. */
  get reserved(): number {
    return this.fore.ca_maxrequests * this.fore.ca_maxresponsesize_cached;
  }
}

export class Client {
  readonly key: string;
  confirmed = false;
  /** CREATE_SESSION's own slot: the last csa_sequence seen and its result, for a retransmission. */
  csSeqid = 0;
  csReply: CREATE_SESSION4resok | null = null;
  readonly sessions = new Map<string, Session>();
  reclaimComplete = false;
  lastRenew: number;
  /** Compounds of this client in progress: its lease cannot expire under them. */
  busy = 0;

  constructor(
    readonly clientid: bigint,
    readonly ownerId: Buffer,
    readonly verifier: Buffer,
    readonly principal: string,
    now: number,
  ) {
    this.key = clientid.toString(16);
    this.lastRenew = now;
  }

  get ownerKey(): string {
    return this.ownerId.toString('hex');
  }
}

export interface ClientTableOptions {
  leaseSeconds: number;
  now: () => number;
  store: RecoveryStore;
  /** Called when a client's state must go (lease expired, replaced by a restarted client, DESTROY_CLIENTID). */
  onExpire: (client: Client) => void;
  /** Server identity in EXCHANGE_ID: the same for every instance that serves the same filesystems. */
  serverOwner: Buffer;
  /** Budget for the replies sessions must keep (default REPLY_CACHE_BYTES). */
  replyCacheBytes?: number;
  /** Budget for the replies kept unasked (default UNASKED_CACHE_BYTES). */
  unaskedCacheBytes?: number;
}

/** Limits this server grants on the fore channel (the client may ask for less). */
export const MAX_SLOTS = 64;
export const MAX_OPS = 64;
export const MAX_REQUEST = 2 ** 20 + 4096;
export const MAX_RESPONSE = 2 ** 20 + 4096;
/** Replies up to this size are kept for a retransmission whether or not the client asked, within UNASKED_CACHE_BYTES. */
export const MAX_CACHED = 64 * 1024;
/*
 * Memory for replies kept in slots (RFC 8881 section 2.10.6.1.3). A session reserves what its slots may hold
 * of replies the client asks to be kept (sa_cachethis): slots x ca_maxresponsesize_cached, the latter at most
 * MAX_CACHED. Once the open sessions' reservations reach REPLY_CACHE_BYTES, a new session gets fewer slots
 * than it asked, at least one (as Linux's nfsd does, rather than refusing it), until a quarter more is
 * reserved; past that CREATE_SESSION is NFS4ERR_NOSPC. Replies kept unasked have a budget of their own; past
 * it they are not kept, and a retry of one learns NFS4ERR_RETRY_UNCACHED_REP.
 */
export const REPLY_CACHE_BYTES = 512 * 2 ** 20;
export const UNASKED_CACHE_BYTES = 128 * 2 ** 20;
/** Below these, a channel cannot carry even a SEQUENCE and its reply (Linux's nfsd uses similar floors). */
const MIN_REQUEST = 128;
const MIN_RESPONSE = 128;

/*
 * The eia_flags a client may set. SUPP_FENCE_OPS (RFC 8881's addition) is left out, as in Linux's nfsd
 * (EXCHGID4_FLAG_MASK_A): a 4.1 client setting it is refused with NFS4ERR_INVAL like any unknown bit.
 */
const ARG_FLAGS = EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_SUPP_MOVED_MIGR | EXCHGID4_FLAG_BIND_PRINC_STATEID | EXCHGID4_FLAG_MASK_PNFS | EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;
/* csa_flags a client may set: PERSIST, CONN_BACK_CHAN, CONN_RDMA (Linux's SESSION4_FLAG_MASK_A); others are NFS4ERR_INVAL. */
const SESSION_FLAGS = CREATE_SESSION4_FLAG_PERSIST | CREATE_SESSION4_FLAG_CONN_BACK_CHAN | CREATE_SESSION4_FLAG_CONN_RDMA;

export type SequenceOutcome = { kind: 'new'; session: Session; slot: Slot } | { kind: 'replay'; session: Session; slot: Slot; reply: CachedReply };

/**
 * Client ids, sessions with their slot tables, leases and the grace period (RFC 8881 sections 2.4, 2.10,
 * 8.3 and 8.4). A client id is made by EXCHANGE_ID and confirmed by its first CREATE_SESSION; a session's
 * slots give exactly-once semantics through SEQUENCE; a client whose lease runs out loses its state.
 */
export class ClientTable {
  /** Part of every client id, session id and stateid: ids of an earlier instance are recognizably stale. */
  readonly boot: number;
  private counter = 0;
  private readonly byId = new Map<string, Client>();
  /** Confirmed and unconfirmed records by client owner (co_ownerid hex). */
  private readonly confirmed = new Map<string, Client>();
  private readonly unconfirmed = new Map<string, Client>();
  private readonly sessions = new Map<string, Session>();
  private lastSession: Session | undefined;
  /** Owners that held state before the restart and may still reclaim it. */
  private readonly reclaimable: Set<string>;
  /** Reply-cache bytes reserved by open sessions, and held by replies kept unasked. */
  private reservedBytes = 0;
  private unaskedBytes = 0;
  private graceEnds: number;
  private lastSweep = 0;

  constructor(private readonly opts: ClientTableOptions) {
    this.boot = Math.floor(opts.now() / 1000) >>> 0 || 1;
    this.reclaimable = new Set(opts.store.load());
    this.graceEnds = this.reclaimable.size > 0 ? opts.now() + opts.leaseSeconds * 1000 : 0;
  }

  get leaseSeconds(): number {
    return this.opts.leaseSeconds;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Confirmed client ids, their sessions, and the reply cache's bytes (for metrics). */
  counts(): { clients: number; sessions: number; reservedBytes: number; unaskedBytes: number } {
    return { clients: this.confirmed.size, sessions: this.sessions.size, reservedBytes: this.reservedBytes, unaskedBytes: this.unaskedBytes };
  }

  // ---- grace period ------------------------------------------------------------------------------

  /** Whether the grace period is on, without ending it (for metrics: ending it writes the recovery file). */
  graceActive(): boolean {
    return this.graceEnds !== 0 && this.opts.now() < this.graceEnds && this.reclaimable.size > 0;
  }

  /** Non-reclaim opens and locks wait (NFS4ERR_GRACE) while clients that held state may still reclaim it. */
  inGrace(): boolean {
    if (this.graceActive()) return true;
    if (this.graceEnds !== 0) this.endGrace();
    return false;
  }

  mayReclaim(client: Client): boolean {
    return this.inGrace() && !client.reclaimComplete && this.reclaimable.has(client.ownerKey);
  }

  reclaimComplete(client: Client): void {
    if (client.reclaimComplete) fail(nfsstat4.NFS4ERR_COMPLETE_ALREADY, 'RECLAIM_COMPLETE was already done');
    client.reclaimComplete = true;
    this.reclaimable.delete(client.ownerKey);
    this.persist();
  }

  private endGrace(): void {
    this.graceEnds = 0;
    this.reclaimable.clear();
    this.persist();
  }

  /** The owners recorded as holding state: this instance's clients that finished reclaim, plus those that may still reclaim. */
  private persist(): void {
    const owners = new Set(this.reclaimable);
    for (const c of this.confirmed.values()) if (c.reclaimComplete) owners.add(c.ownerKey);
    this.opts.store.save([...owners].sort());
  }

  // ---- EXCHANGE_ID -----------------------------------------------------------------------------------

  /*
   * RFC 8881 section 18.35.4: the cases by whether a confirmed or unconfirmed record exists for the owner,
   * whether the verifier and the principal match, and whether the client asks to update a confirmed record.
   */
  exchangeId(a: EXCHANGE_ID4args, principal: string): EXCHANGE_ID4resok {
    this.sweep();
    const flags = a.eia_flags >>> 0;
    if ((flags & ~ARG_FLAGS) !== 0) fail(nfsstat4.NFS4ERR_INVAL, `eia_flags 0x${flags.toString(16)} has bits a client may not set`);
    // State protection as Linux's nfsd answers it without RPCSEC_GSS: SP4_MACH_CRED needs an integrity-protected
    // credential (AUTH_SYS never is), SP4_SSV is not offered (RFC 8881 section 18.35.4).
    if (a.eia_state_protect.spa_how === 1) fail(nfsstat4.NFS4ERR_INVAL, 'SP4_MACH_CRED needs RPCSEC_GSS with integrity or privacy');
    if (a.eia_state_protect.spa_how === 2) fail(nfsstat4.NFS4ERR_ENCR_ALG_UNSUPP, 'SP4_SSV is not supported');
    const owner = a.eia_clientowner.co_ownerid.toString('hex');
    const verifier = a.eia_clientowner.co_verifier;
    const conf = this.confirmed.get(owner);
    let client: Client;
    if (flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A) {
      if (!conf) return fail(nfsstat4.NFS4ERR_NOENT, 'no confirmed client record to update');
      if (conf.principal !== principal) fail(nfsstat4.NFS4ERR_PERM, 'the client record belongs to another principal');
      if (!conf.verifier.equals(verifier)) fail(nfsstat4.NFS4ERR_NOT_SAME, 'the verifier differs from the confirmed record');
      client = conf;
    } else if (conf && conf.principal === principal && conf.verifier.equals(verifier)) {
      client = conf;
    } else {
      if (conf && conf.principal !== principal) {
        if (this.leaseActive(conf) && (conf.sessions.size > 0 || conf.reclaimComplete)) fail(nfsstat4.NFS4ERR_CLID_INUSE, 'the client owner is in use by another principal');
        this.expire(conf);
      }
      const old = this.unconfirmed.get(owner);
      if (old) this.drop(old);
      client = new Client(this.newClientId(), Buffer.from(a.eia_clientowner.co_ownerid), Buffer.from(verifier), principal, this.opts.now());
      this.unconfirmed.set(owner, client);
      this.byId.set(client.key, client);
    }
    return {
      eir_clientid: client.clientid,
      eir_sequenceid: (client.csSeqid + 1) >>> 0,
      eir_flags: EXCHGID4_FLAG_USE_NON_PNFS | (client.confirmed ? EXCHGID4_FLAG_CONFIRMED_R : 0),
      eir_state_protect: { spr_how: 0 },
      eir_server_owner: { so_minor_id: 0n, so_major_id: this.opts.serverOwner },
      eir_server_scope: this.opts.serverOwner,
      eir_server_impl_id: [],
    };
  }

  // ---- CREATE_SESSION / DESTROY_SESSION / DESTROY_CLIENTID ------------------------------------------------

  /* RFC 8881 section 18.36.4: CREATE_SESSION has its own one-slot sequence per client id and confirms the client id. */
  createSession(a: CREATE_SESSION4args, principal: string): CREATE_SESSION4resok {
    this.sweep();
    const client = this.byId.get(a.csa_clientid.toString(16));
    if (!client) return fail(nfsstat4.NFS4ERR_STALE_CLIENTID, `client id ${a.csa_clientid} is unknown`);
    // Only an unconfirmed client id is bound to EXCHANGE_ID's principal; once confirmed, SP4_NONE lets any principal in.
    if (!client.confirmed && client.principal !== principal) fail(nfsstat4.NFS4ERR_CLID_INUSE, 'the client id belongs to another principal');
    if (a.csa_sequence === client.csSeqid && client.csReply) return client.csReply;
    if (a.csa_sequence !== ((client.csSeqid + 1) >>> 0)) fail(nfsstat4.NFS4ERR_SEQ_MISORDERED, `csa_sequence ${a.csa_sequence}, expected ${(client.csSeqid + 1) >>> 0}`);
    const f = a.csa_fore_chan_attrs;
    if (f.ca_maxrequestsize < MIN_REQUEST || f.ca_maxresponsesize < MIN_RESPONSE) fail(nfsstat4.NFS4ERR_TOOSMALL, 'the fore channel cannot carry a SEQUENCE');
    if (f.ca_maxrequests === 0 || f.ca_maxoperations === 0) fail(nfsstat4.NFS4ERR_INVAL, 'the fore channel has no slots or no operations');
    if ((a.csa_flags & ~SESSION_FLAGS) !== 0) fail(nfsstat4.NFS4ERR_INVAL, `csa_flags 0x${(a.csa_flags >>> 0).toString(16)} has undefined bits`);
    const b = a.csa_back_chan_attrs;
    // A back channel must carry at least a CB_SEQUENCE and one more operation (Linux's check_backchannel_attrs).
    if (b.ca_maxrequestsize < MIN_REQUEST || b.ca_maxresponsesize < MIN_RESPONSE || b.ca_maxoperations < 2) fail(nfsstat4.NFS4ERR_TOOSMALL, 'the back channel cannot carry a CB_SEQUENCE and an operation');
    const fore: channel_attrs4 = {
      ca_headerpadsize: 0,
      ca_maxrequestsize: Math.min(f.ca_maxrequestsize, MAX_REQUEST),
      ca_maxresponsesize: Math.min(f.ca_maxresponsesize, MAX_RESPONSE),
      ca_maxresponsesize_cached: Math.min(f.ca_maxresponsesize_cached, MAX_CACHED),
      ca_maxoperations: Math.min(f.ca_maxoperations, MAX_OPS),
      ca_maxrequests: Math.min(f.ca_maxrequests, MAX_SLOTS),
      ca_rdma_ird: [],
    };
    // A restarted client's old incarnation goes first, so its reservation does not count against the new one.
    if (!client.confirmed) this.confirm(client);
    const perSlot = fore.ca_maxresponsesize_cached;
    if (perSlot > 0) {
      const budget = this.opts.replyCacheBytes ?? REPLY_CACHE_BYTES;
      const room = Math.floor((budget - this.reservedBytes) / perSlot);
      // Past the budget a session still gets one slot, up to a quarter more; past that it is refused.
      if (room < 1 && this.reservedBytes + perSlot > budget * 1.25) fail(nfsstat4.NFS4ERR_NOSPC, `open sessions reserve ${this.reservedBytes} bytes of reply cache`);
      fore.ca_maxrequests = Math.max(1, Math.min(fore.ca_maxrequests, room));
    }
    const back: channel_attrs4 = { ...b, ca_headerpadsize: 0, ca_maxrequests: Math.min(Math.max(b.ca_maxrequests, 1), 16), ca_maxoperations: Math.min(Math.max(b.ca_maxoperations, 1), 16), ca_rdma_ird: [] };
    const id = Buffer.alloc(16);
    id.writeBigUInt64BE(client.clientid, 0);
    id.writeUInt32BE(++this.counter >>> 0, 8);
    randomBytes(4).copy(id, 12);
    const session = new Session(id, client, fore, back, a.csa_flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
    this.reservedBytes += session.reserved;
    client.sessions.set(session.key, session);
    this.sessions.set(session.key, session);
    client.csSeqid = a.csa_sequence;
    client.lastRenew = this.opts.now();
    client.csReply = { csr_sessionid: id, csr_sequence: a.csa_sequence, csr_flags: session.flags, csr_fore_chan_attrs: fore, csr_back_chan_attrs: back };
    return client.csReply;
  }

  /**
   * The session with this id. Every COMPOUND names one (twice: its checks and SEQUENCE), mostly the
   * same as the call before, so the last one found (forget() lets go of it) is tried first, byte for
   * byte, before the id is turned into a key.
   */
  session(id: Buffer): Session {
    const last = this.lastSession;
    if (last !== undefined && last.id.equals(id)) return last;
    const s = this.sessions.get(id.toString('hex')) ?? fail(nfsstat4.NFS4ERR_BADSESSION, 'no such session');
    this.lastSession = s;
    return s;
  }

  destroySession(id: Buffer): void {
    const s = this.session(id);
    s.client.sessions.delete(s.key);
    this.forget(s);
  }

  /** A session is gone: its reservation and the replies it kept unasked leave the budgets. */
  private forget(s: Session): void {
    this.sessions.delete(s.key);
    if (this.lastSession === s) this.lastSession = undefined;
    if (s.closed) return;
    s.closed = true;
    this.reservedBytes -= s.reserved;
    for (const slot of s.slots) this.release(slot);
  }

  private release(slot: Slot): void {
    this.unaskedBytes -= slot.unasked;
    slot.unasked = 0;
  }

  /**
   * Keep a slot's reply for retransmissions: always when the client asked (sa_cachethis; the reply fit
   * ca_maxresponsesize_cached), else when it is small and the unasked budget has room. `borrowed`: the
   * pieces reference buffers reused once the reply is written (pooled READ data), so a kept reply is a copy,
   * made only when it is kept (at most MAX_CACHED bytes, as ca_maxresponsesize_cached is no more).
   */
  keepReply(session: Session, slot: Slot, bytes: Buffer[], size: number, cachethis: boolean, borrowed = false): CachedReply {
    this.release(slot);
    const keep = (): CachedReply => (slot.reply = { bytes: borrowed ? [Buffer.concat(bytes, size)] : bytes });
    if (cachethis) return keep();
    if (size > MAX_CACHED) return (slot.reply = { bytes: null });
    // A session destroyed by its own COMPOUND keeps the reply outside the budget: no retry can reach it.
    if (session.closed) return keep();
    if (this.unaskedBytes + size > (this.opts.unaskedCacheBytes ?? UNASKED_CACHE_BYTES)) return (slot.reply = { bytes: null });
    slot.unasked = size;
    this.unaskedBytes += size;
    return keep();
  }

  destroyClientId(clientid: bigint): void {
    const client = this.byId.get(clientid.toString(16));
    if (!client) return fail(nfsstat4.NFS4ERR_STALE_CLIENTID, `client id ${clientid} is unknown`);
    if (client.sessions.size > 0) fail(nfsstat4.NFS4ERR_CLIENTID_BUSY, 'the client id still has sessions');
    this.expire(client);
  }

  clientOf(clientid: bigint): Client | undefined {
    return this.byId.get(clientid.toString(16));
  }

  // ---- SEQUENCE --------------------------------------------------------------------------------------

  /* RFC 8881 section 2.10.6.1: a new request carries the slot's sequence id + 1; the same id is a retransmission. */
  sequence(a: SEQUENCE4args): SequenceOutcome {
    const session = this.session(a.sa_sessionid);
    if (a.sa_slotid >= session.slots.length) fail(nfsstat4.NFS4ERR_BADSLOT, `slot ${a.sa_slotid} of ${session.slots.length}`);
    const slot = session.slots[a.sa_slotid];
    if (a.sa_sequenceid === slot.seqid) {
      if (slot.inProgress) fail(nfsstat4.NFS4ERR_DELAY, 'the request in this slot is still running');
      if (!slot.reply) fail(nfsstat4.NFS4ERR_SEQ_MISORDERED, 'this slot has not been used yet');
      return { kind: 'replay', session, slot, reply: slot.reply! };
    }
    if (a.sa_sequenceid !== ((slot.seqid + 1) >>> 0)) fail(nfsstat4.NFS4ERR_SEQ_MISORDERED, `sequence id ${a.sa_sequenceid} in slot ${a.sa_slotid}, expected ${(slot.seqid + 1) >>> 0}`);
    if (slot.inProgress) fail(nfsstat4.NFS4ERR_DELAY, 'the slot is busy');
    slot.seqid = a.sa_sequenceid;
    slot.inProgress = true;
    slot.reply = null;
    this.release(slot);
    session.client.lastRenew = this.opts.now();
    return { kind: 'new', session, slot };
  }

  // ---- leases --------------------------------------------------------------------------------------

  /** Expire the clients whose lease ran out (at most once a second; cheap enough to call per COMPOUND). */
  sweep(): void {
    const now = this.opts.now();
    if (now - this.lastSweep < 1000 && this.lastSweep !== 0) return;
    this.lastSweep = now;
    for (const c of [...this.byId.values()]) if (!this.leaseActive(c)) this.expire(c);
  }

  /** A lease is renewed by every SEQUENCE (RFC 8881 section 8.3): at its start and when its COMPOUND ends. */
  renew(c: Client): void {
    c.lastRenew = this.opts.now();
  }

  leaseActive(c: Client): boolean {
    return c.busy > 0 || this.opts.now() - c.lastRenew <= this.opts.leaseSeconds * 1000;
  }

  private confirm(client: Client): void {
    const owner = client.ownerKey;
    const previous = this.confirmed.get(owner);
    // A restarted client (new verifier) confirms its new id: the old one's state goes (RFC 8881 18.35.4 case 5).
    if (previous && previous !== client) this.expire(previous);
    if (this.unconfirmed.get(owner) === client) this.unconfirmed.delete(owner);
    this.confirmed.set(owner, client);
    client.confirmed = true;
  }

  private expire(c: Client): void {
    this.drop(c);
    this.opts.onExpire(c);
    if (c.reclaimComplete) this.persist();
  }

  private drop(c: Client): void {
    for (const s of c.sessions.values()) this.forget(s);
    c.sessions.clear();
    this.byId.delete(c.key);
    if (this.confirmed.get(c.ownerKey) === c) this.confirmed.delete(c.ownerKey);
    if (this.unconfirmed.get(c.ownerKey) === c) this.unconfirmed.delete(c.ownerKey);
  }

  private newClientId(): bigint {
    return (BigInt(this.boot) << 32n) | BigInt(++this.counter >>> 0);
  }
}
