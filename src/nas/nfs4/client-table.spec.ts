import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { channel_attrs4 } from '../../protocols/nfs4/common.codec';
import { nfsstat4 } from '../../protocols/nfs4/constants';
import { ClientTable, MAX_CACHED, MAX_SLOTS, MemoryRecoveryStore, type Session } from './client-table';

const KiB = 1024;

/** A table with small reply-cache budgets, and a way to make confirmed clients with one session each. */
function table(replyCacheBytes: number, unaskedCacheBytes = 1024 * KiB) {
  const t = new ClientTable({ leaseSeconds: 90, now: Date.now, store: new MemoryRecoveryStore(), serverOwner: Buffer.from('test'), onExpire: () => undefined, replyCacheBytes, unaskedCacheBytes });
  const fore = (slots: number, cached: number): channel_attrs4 => ({ ca_headerpadsize: 0, ca_maxrequestsize: 65536, ca_maxresponsesize: 65536, ca_maxresponsesize_cached: cached, ca_maxoperations: 16, ca_maxrequests: slots, ca_rdma_ird: [] });
  const open = (slots: number, cached: number): { session: Session; clientid: bigint } => {
    const e = t.exchangeId({ eia_clientowner: { co_verifier: randomBytes(8), co_ownerid: randomBytes(12) }, eia_flags: 0, eia_state_protect: { spa_how: 0 }, eia_client_impl_id: [] }, 'sys:0');
    const cs = t.createSession(
      { csa_clientid: e.eir_clientid, csa_sequence: e.eir_sequenceid, csa_flags: 0, csa_fore_chan_attrs: fore(slots, cached), csa_back_chan_attrs: fore(2, 0), csa_cb_program: 0, csa_sec_parms: [] },
      'sys:0',
    );
    return { session: t.session(cs.csr_sessionid), clientid: e.eir_clientid };
  };
  return { t, open };
}

describe('ClientTable reply-cache budget', () => {
  it('grants the slots asked while the budget has room, then fewer, never fewer than one; a destroyed session gives its room back', () => {
    const { t, open } = table(100 * KiB);
    const a = open(8, 10 * KiB);
    expect(a.session.slots.length).toBe(8);
    expect(a.session.fore.ca_maxrequests).toBe(8);
    const b = open(8, 10 * KiB);
    expect(b.session.slots.length).toBe(2);
    const c = open(8, 10 * KiB);
    expect(c.session.slots.length).toBe(1);
    expect(open(8, 10 * KiB).session.slots.length).toBe(1);
    expect(t.counts().reservedBytes).toBe(120 * KiB);
    // A quarter past the budget, sessions are refused.
    expect(() => open(8, 10 * KiB)).toThrow(expect.objectContaining({ status: nfsstat4.NFS4ERR_NOSPC }));
    expect(t.counts().reservedBytes).toBe(120 * KiB);
    t.destroySession(a.session.id);
    t.destroySession(c.session.id);
    expect(t.counts().reservedBytes).toBe(30 * KiB);
    expect(open(8, 10 * KiB).session.slots.length).toBe(7);
    // No more than MAX_SLOTS however large the budget, and a client that asks nothing cached reserves nothing.
    const big = table(2 ** 40);
    expect(big.open(1000, 1).session.slots.length).toBe(MAX_SLOTS);
    expect(big.open(1000, 0).session.reserved).toBe(0);
    // What a slot reserves is at most MAX_CACHED, whatever the client asks.
    const greedy = big.open(4, 2 ** 20).session;
    expect(greedy.fore.ca_maxresponsesize_cached).toBe(MAX_CACHED);
    expect(greedy.reserved).toBe(4 * MAX_CACHED);
  });

  it('keeps replies the client asked for whatever their size; unasked ones while small and within their budget', () => {
    const { t, open } = table(1024 * KiB, 100 * KiB);
    const { session } = open(4, 64 * KiB);
    const reply = (n: number) => [Buffer.alloc(n)];
    const [s0, s1, s2, s3] = session.slots;
    expect(t.keepReply(session, s0, reply(200 * KiB), 200 * KiB, true).bytes).not.toBeNull();
    expect(t.keepReply(session, s1, reply(MAX_CACHED + 1), MAX_CACHED + 1, false).bytes).toBeNull();
    expect(t.keepReply(session, s1, reply(60 * KiB), 60 * KiB, false).bytes).not.toBeNull();
    // 60 KiB of the unasked budget's 100 are in use: 50 more do not fit, 40 do.
    expect(t.keepReply(session, s2, reply(50 * KiB), 50 * KiB, false).bytes).toBeNull();
    expect(t.keepReply(session, s3, reply(40 * KiB), 40 * KiB, false).bytes).not.toBeNull();
    expect(t.counts().unaskedBytes).toBe(100 * KiB);
    // The next request in slot 1 drops its old reply, and its bytes leave the budget.
    t.sequence({ sa_sessionid: session.id, sa_sequenceid: 1, sa_slotid: 1, sa_highest_slotid: 3, sa_cachethis: false });
    expect(t.counts().unaskedBytes).toBe(40 * KiB);
    // Destroying the session frees the rest; a reply kept after that (DESTROY_SESSION in its own COMPOUND) is not counted.
    t.destroySession(session.id);
    expect(t.counts()).toMatchObject({ unaskedBytes: 0, reservedBytes: 0 });
    expect(t.keepReply(session, s1, reply(10 * KiB), 10 * KiB, false).bytes).not.toBeNull();
    expect(t.counts().unaskedBytes).toBe(0);
  });

  it('keeps a copy of a reply whose pieces are borrowed (pooled READ data), and copies nothing it does not keep', () => {
    const { t, open } = table(1024 * KiB, 100 * KiB);
    const { session } = open(3, 64 * KiB);
    const [s0, s1, s2] = session.slots;
    const pieces = [Buffer.from('head'), Buffer.alloc(8 * KiB, 0x5a)];
    for (const [slot, cachethis] of [[s0, true], [s1, false]] as const) {
      const kept = t.keepReply(session, slot, pieces, 4 + 8 * KiB, cachethis, true).bytes!;
      expect(Buffer.concat(kept).equals(Buffer.concat(pieces))).toBe(true);
      expect(kept.some((b) => pieces.some((p) => b.buffer === p.buffer))).toBe(false);
    }
    // Not borrowed: kept as given.
    expect(t.keepReply(session, s2, pieces, 4 + 8 * KiB, false).bytes).toBe(pieces);
    // Too large to keep unasked: nothing kept, so nothing copied.
    expect(t.keepReply(session, s2, [Buffer.alloc(MAX_CACHED + 1)], MAX_CACHED + 1, false, true).bytes).toBeNull();
  });

  it('an expired client gives back what its sessions held', () => {
    let now = 0;
    const t = new ClientTable({ leaseSeconds: 90, now: () => now, store: new MemoryRecoveryStore(), serverOwner: Buffer.from('test'), onExpire: () => undefined, replyCacheBytes: 1024 * KiB });
    const e = t.exchangeId({ eia_clientowner: { co_verifier: randomBytes(8), co_ownerid: randomBytes(12) }, eia_flags: 0, eia_state_protect: { spa_how: 0 }, eia_client_impl_id: [] }, 'sys:0');
    const attrs: channel_attrs4 = { ca_headerpadsize: 0, ca_maxrequestsize: 65536, ca_maxresponsesize: 65536, ca_maxresponsesize_cached: 4 * KiB, ca_maxoperations: 16, ca_maxrequests: 4, ca_rdma_ird: [] };
    const cs = t.createSession({ csa_clientid: e.eir_clientid, csa_sequence: e.eir_sequenceid, csa_flags: 0, csa_fore_chan_attrs: attrs, csa_back_chan_attrs: attrs, csa_cb_program: 0, csa_sec_parms: [] }, 'sys:0');
    const session = t.session(cs.csr_sessionid);
    t.keepReply(session, session.slots[0], [Buffer.alloc(100)], 100, false);
    expect(t.counts()).toMatchObject({ sessions: 1, reservedBytes: 16 * KiB, unaskedBytes: 100 });
    now = 91_000;
    t.sweep();
    expect(t.counts()).toMatchObject({ sessions: 0, reservedBytes: 0, unaskedBytes: 0 });
  });
});
