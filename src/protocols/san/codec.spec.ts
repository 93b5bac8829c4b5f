import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { decodeAck, decodeError, encodeAck, encodeError, rangesOf } from './ack';
import { Flag, Kind, Opcode, SbpDecodeError, Status } from './constants';
import { decodeDatagram, encodeDatagram, openDatagram, sealDatagram, sealDatagramParts, type DatagramHeader } from './datagram';
import { decodeLogin, encodeLogin, Security, type LoginMessage } from './login';
import { decodeCall, decodeReply, encodeCall, encodeCallParts, encodeReadReplyPrefix, encodeReply, READ_REPLY_PREFIX, type Call, type Reply } from './message';
import { Reassembly, segment } from './segments';

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320), written out here so reference bytes don't come from the codec's own zlib call. */
function referenceCrc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function expectDecodeError(fn: () => unknown, status: Status, message?: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected an SbpDecodeError').toBeInstanceOf(SbpDecodeError);
  expect(STATUS(error as SbpDecodeError)).toBe(STATUS({ status } as SbpDecodeError));
  if (message) expect((error as Error).message).toMatch(message);
}
const STATUS = (e: SbpDecodeError) => e.status;

const header: DatagramHeader = {
  version: 1,
  kind: Kind.CALL_SEG,
  flags: 0,
  sessionId: 0x01020304,
  xid: 0x0a0b0c0d,
  segment: 0,
  segments: 1,
  messageLength: 16,
  packetNumber: 5n,
  credits: 64,
};

describe('reference bytes', () => {
  it('a NOP call in one datagram is laid out as the spec says', () => {
    const call: Call = { op: Opcode.NOP, flags: 0, slot: 3, seq: 7, time: 0x1122334455667788n };
    // opcode, flags, slot, sequence, time
    const message = Buffer.from('0c00' + '0003' + '00000007' + '1122334455667788', 'hex');
    expect(encodeCall(call).equals(message)).toBe(true);

    const head = Buffer.from(
      '5342' + '01' + '01' + '00' + '00' + '0010' + '01020304' + '0a0b0c0d' + '0000' + '0001' + '00000010' + '0000000000000005' + '00000040',
      'hex',
    );
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(referenceCrc32(Buffer.concat([head, message])));
    const expected = Buffer.concat([head, crc, message]);
    const encoded = encodeDatagram(header, message);
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
    const decoded = decodeDatagram(expected);
    expect(decoded.header).toEqual(header);
    expect(decodeCall(decoded.payload)).toEqual(call);
  });

  it('an error reply carries its status and a message string', () => {
    const bytes = Buffer.from('06' + '08' + '0001' + '00000002' + '0009' + Buffer.from('read-only').toString('hex'), 'hex');
    expect(decodeReply(bytes)).toEqual({ op: Opcode.WRITE, status: Status.READ_ONLY, slot: 1, seq: 2, message: 'read-only' });
  });

  it('a REPLICA_COMMIT call names its lun and cycle; NOT_REPLICA is status 19 (section 10)', () => {
    // opcode 0x0e, flags, slot, sequence, u32 lun, u64 cycle
    const bytes = Buffer.from('0e' + '00' + '0002' + '0000002a' + '00000003' + '0000000100000007', 'hex');
    const call: Call = { op: Opcode.REPLICA_COMMIT, flags: 0, slot: 2, seq: 42, lun: 3, cycle: 2 ** 32 + 7 };
    expect(encodeCall(call).toString('hex')).toBe(bytes.toString('hex'));
    expect(decodeCall(bytes)).toEqual(call);
    const ok = Buffer.from('0e' + '00' + '0002' + '0000002a', 'hex');
    expect(decodeReply(ok)).toEqual({ op: Opcode.REPLICA_COMMIT, status: Status.OK, slot: 2, seq: 42 });
    const refused = Buffer.from('0e' + '13' + '0002' + '0000002a' + '0004' + Buffer.from('nope').toString('hex'), 'hex');
    expect(decodeReply(refused)).toEqual({ op: Opcode.REPLICA_COMMIT, status: Status.NOT_REPLICA, slot: 2, seq: 42, message: 'nope' });
    expect(encodeReply({ op: Opcode.REPLICA_COMMIT, status: Status.NOT_REPLICA, slot: 2, seq: 42, message: 'nope' }).equals(refused)).toBe(true);
  });

  it("a share replica's REPLICA_COMMIT carries the metadata length and SHA-256 under flag METADATA; REPLICA_META its bytes (section 10.1)", () => {
    const sum = Buffer.alloc(32, 0xab);
    // opcode 0x0e, flags 0x04, slot, sequence, u32 lun, u64 cycle, u64 metadata length, bytes<32> sha256
    const commit = Buffer.from('0e' + '04' + '0001' + '00000005' + '00000002' + '0000000000000009' + '0000000000123000' + 'ab'.repeat(32), 'hex');
    const call: Call = { op: Opcode.REPLICA_COMMIT, flags: 4, slot: 1, seq: 5, lun: 2, cycle: 9, metadata: { length: 0x123000, sha256: sum } };
    expect(encodeCall(call).toString('hex')).toBe(commit.toString('hex'));
    expect(decodeCall(commit)).toEqual(call);
    // The flag follows the fields: set from `metadata`, cleared without it.
    expect(encodeCall({ ...call, flags: 0 }).equals(commit)).toBe(true);
    expect(encodeCall({ op: Opcode.REPLICA_COMMIT, flags: 4, slot: 1, seq: 5, lun: 2, cycle: 9 })[1]).toBe(0);
    // opcode 0x0f, flags, slot, sequence, u32 lun, u64 cycle, u64 base, u64 offset, data
    const meta = Buffer.from('0f' + '00' + '0003' + '00000006' + '00000002' + '0000000000000009' + '0000000000000008' + '0000000000010000' + 'cafe', 'hex');
    const metaCall: Call = { op: Opcode.REPLICA_META, flags: 0, slot: 3, seq: 6, lun: 2, cycle: 9, base: 8, offset: 0x10000, data: Buffer.from('cafe', 'hex') };
    expect(encodeCall(metaCall).toString('hex')).toBe(meta.toString('hex'));
    expect(decodeCall(meta)).toEqual(metaCall);
    const mismatch = Buffer.from('0f' + '14' + '0003' + '00000006' + '0002' + '6e6f', 'hex');
    expect(decodeReply(mismatch)).toEqual({ op: Opcode.REPLICA_META, status: Status.REPLICA_MISMATCH, slot: 3, seq: 6, message: 'no' });
    // A commit flagged METADATA without its 40 bytes does not decode.
    expectDecodeError(() => decodeCall(Buffer.from('0e04000100000005' + '00000002' + '0000000000000009', 'hex')), Status.GARBAGE, /metadata length/);
  });

  it('an ACK lists inclusive ranges', () => {
    expect(encodeAck([[0, 3], [5, 5]]).toString('hex')).toBe('0002' + '00000003' + '00050005');
  });
});

const calls: Call[] = [
  { op: Opcode.DISCOVER, flags: 0, slot: 0, seq: 1 },
  { op: Opcode.IDENTIFY, flags: 0, slot: 1, seq: 2, lun: 7 },
  { op: Opcode.CAPACITY, flags: 0, slot: 1, seq: 3, lun: 7 },
  { op: Opcode.READY, flags: 0, slot: 1, seq: 4, lun: 7 },
  { op: Opcode.READ, flags: 0, slot: 63, seq: 0xffffffff, lun: 1, offset: 2 ** 40, length: 8 * 2 ** 20 },
  { op: Opcode.WRITE, flags: 1, slot: 2, seq: 9, lun: 1, offset: 4096, data: randomBytes(5000) },
  { op: Opcode.WRITE, flags: 0, slot: 2, seq: 10, lun: 1, offset: 0, data: Buffer.alloc(0) },
  { op: Opcode.FLUSH, flags: 0, slot: 0, seq: 5, lun: 1 },
  { op: Opcode.UNMAP, flags: 0, slot: 0, seq: 6, lun: 1, offset: 8192, length: 2 ** 33 },
  { op: Opcode.WRITE_ZEROES, flags: 3, slot: 0, seq: 7, lun: 1, offset: 0, length: 4096 },
  { op: Opcode.RESERVE, flags: 0, slot: 0, seq: 8, lun: 1 },
  { op: Opcode.RELEASE, flags: 0, slot: 0, seq: 9, lun: 1 },
  { op: Opcode.NOP, flags: 0, slot: 0, seq: 10, time: 123456789n },
  { op: Opcode.LOGOUT, flags: 0, slot: 0, seq: 11 },
  { op: Opcode.REPLICA_COMMIT, flags: 0, slot: 5, seq: 12, lun: 1, cycle: 1 },
  { op: Opcode.REPLICA_COMMIT, flags: 0, slot: 0, seq: 13, lun: 0xffffffff, cycle: Number.MAX_SAFE_INTEGER },
  { op: Opcode.REPLICA_COMMIT, flags: 4, slot: 0, seq: 14, lun: 3, cycle: 2, metadata: { length: 2 ** 40, sha256: randomBytes(32) } },
  { op: Opcode.REPLICA_META, flags: 0, slot: 6, seq: 15, lun: 3, cycle: 2, base: 1, offset: 2 ** 36, data: randomBytes(3000) },
  { op: Opcode.REPLICA_META, flags: 0, slot: 6, seq: 16, lun: 3, cycle: 1, base: 0, offset: 0, data: Buffer.alloc(0) },
];

const replies: Reply[] = [
  {
    op: Opcode.DISCOVER,
    status: Status.OK,
    slot: 0,
    seq: 1,
    volumes: [
      { lun: 1, id: randomBytes(16), name: 'db-data', size: 10 * 2 ** 30, blockSize: 4096, flags: 0 },
      { lun: 2, id: randomBytes(16), name: 'shared-ro ✓', size: 2 ** 20, blockSize: 4096, flags: 3 },
    ],
  },
  { op: Opcode.DISCOVER, status: Status.OK, slot: 0, seq: 1, volumes: [] },
  {
    op: Opcode.IDENTIFY,
    status: Status.OK,
    slot: 1,
    seq: 2,
    vendor: 'STRATA',
    product: 'Strata volume',
    serial: '0123456789abcdef',
    wwn: randomBytes(16),
    blockSize: 4096,
    capacity: 2 ** 34,
    flags: 2,
    maxTransfer: 8 * 2 ** 20,
  },
  { op: Opcode.CAPACITY, status: Status.OK, slot: 1, seq: 3, capacity: 2 ** 34, blockSize: 4096 },
  { op: Opcode.READ, status: Status.OK, slot: 4, seq: 4, data: randomBytes(3000) },
  { op: Opcode.NOP, status: Status.OK, slot: 0, seq: 5, time: 42n, bootVerifier: 0xfedcba9876543210n },
  { op: Opcode.WRITE, status: Status.OK, slot: 2, seq: 9 },
  { op: Opcode.FLUSH, status: Status.OK, slot: 2, seq: 10 },
  { op: Opcode.WRITE, status: Status.NO_SPACE, slot: 2, seq: 11, message: "pool 'default' is full" },
  { op: Opcode.READ, status: Status.NOT_ASSIGNED, slot: 2, seq: 12, message: 'lun 4 is not assigned to host h1' },
  { op: Opcode.REPLICA_COMMIT, status: Status.OK, slot: 3, seq: 13 },
  { op: Opcode.REPLICA_COMMIT, status: Status.NOT_REPLICA, slot: 3, seq: 14, message: "volume 'db' is not a replica received from host 'src'" },
];

const logins: LoginMessage[] = [
  { step: 1, minVersion: 1, maxVersion: 1, clientNonce: randomBytes(32), clientKey: randomBytes(32), host: 'web-01', datagramSize: 1452, security: Security.ENCRYPT },
  {
    step: 2,
    status: Status.OK,
    sessionId: 99,
    serverNonce: randomBytes(32),
    serverKey: randomBytes(32),
    bootVerifier: 7n,
    datagramSize: 1452,
    slots: 64,
    maxTransfer: 8 * 2 ** 20,
  },
  { step: 2, status: Status.AUTH_FAILED, message: 'unknown host' },
  { step: 3, signature: randomBytes(64) },
  { step: 4, status: Status.OK, credits: 256 },
  { step: 4, status: Status.AUTH_FAILED, message: 'bad signature' },
];

describe('round trip', () => {
  it.each(calls.map((c) => [c.op, c] as const))('call %i', (_, c) => expect(decodeCall(encodeCall(c))).toEqual(c));
  it('a call in pieces joins to the call in one buffer, and a WRITE carries the caller\'s data itself', () => {
    for (const c of calls) {
      const parts = encodeCallParts(c);
      expect(Buffer.concat(parts).equals(encodeCall(c))).toBe(true);
      if (c.op === Opcode.WRITE || c.op === Opcode.REPLICA_META) expect(parts[parts.length - 1]).toBe(c.data);
      else expect(parts).toHaveLength(1);
    }
  });
  it.each(replies.map((r, i) => [i, r] as const))('reply %i', (_, r) => expect(decodeReply(encodeReply(r))).toEqual(r));
  it('a READ reply built in place (prefix, then the data read into the rest) is the encoded reply', () => {
    const data = randomBytes(3000);
    const reply = Buffer.alloc(READ_REPLY_PREFIX + data.length, 0xee);
    encodeReadReplyPrefix(reply, { slot: 513, seq: 0x89abcdef });
    data.copy(reply, READ_REPLY_PREFIX);
    expect(reply.equals(encodeReply({ op: Opcode.READ, status: Status.OK, slot: 513, seq: 0x89abcdef, data }))).toBe(true);
  });
  it.each(logins.map((m, i) => [i, m] as const))('login %i', (_, m) => expect(decodeLogin(encodeLogin(m))).toEqual(m));
  it('acks, errors and rangesOf', () => {
    expect(rangesOf([1, 1, 0, 1, 0, 0, 1, 1, 1])).toEqual([[0, 1], [3, 3], [6, 8]]);
    const ranges = rangesOf([1, 0, 1, 1]);
    expect(decodeAck(encodeAck(ranges), 4)).toEqual(ranges);
    const e = { status: Status.BAD_VERSION, minVersion: 1, maxVersion: 1, message: 'version 2 is not spoken' };
    expect(decodeError(encodeError(e))).toEqual(e);
  });
  it('a datagram of every kind and size', () => {
    for (const kind of [1, 2, 3, 4, 5, 6] as Kind[]) {
      for (const n of [0, 1, 1412, 65535]) {
        const h = { ...header, kind, messageLength: Math.max(n, 1) };
        const payload = randomBytes(n);
        const d = decodeDatagram(encodeDatagram(h, payload));
        expect(d.header).toEqual(h);
        expect(d.payload.equals(payload)).toBe(true);
      }
    }
  });
});

describe('split and truncated input', () => {
  it('every truncation of every message is GARBAGE, with the field named', () => {
    for (const c of calls) {
      const bytes = encodeCall(c);
      // WRITE's and REPLICA_META's data run to the end, so any cut after their fixed fields is another valid call.
      const fixed = c.op === Opcode.WRITE ? 20 : c.op === Opcode.REPLICA_META ? 36 : bytes.length;
      for (let cut = 0; cut < fixed; cut++) expectDecodeError(() => decodeCall(bytes.subarray(0, cut)), Status.GARBAGE, /truncated/);
    }
    for (const r of replies) {
      const bytes = encodeReply(r);
      const fixed = r.op === Opcode.READ && r.status === Status.OK ? 8 : bytes.length;
      for (let cut = 0; cut < fixed; cut++) expectDecodeError(() => decodeReply(bytes.subarray(0, cut)), Status.GARBAGE);
    }
    for (const m of logins) {
      const bytes = encodeLogin(m);
      for (let cut = 0; cut < bytes.length; cut++) expectDecodeError(() => decodeLogin(bytes.subarray(0, cut)), Status.GARBAGE);
    }
  });

  it('every truncation of a datagram is GARBAGE', () => {
    const bytes = encodeDatagram(header, encodeCall(calls[12]));
    for (let cut = 0; cut < bytes.length; cut++) expectDecodeError(() => decodeDatagram(bytes.subarray(0, cut)), Status.GARBAGE);
  });

  it('a message split into segments reassembles in any order, duplicates ignored', () => {
    const prng = new Prng(11);
    for (const size of [1, 1396, 1397, 5000, 65536]) {
      const message = prng.bytes(size);
      const capacity = 1396;
      const parts = segment(message, capacity);
      expect(parts.length).toBe(Math.max(1, Math.ceil(size / capacity)));
      const order = parts.map((_, i) => i).sort(() => prng.next() - 0.5);
      const r = new Reassembly(parts.length, size, capacity);
      let done = false;
      for (const i of [...order, order[0]]) done = r.add(i, parts[i]) || done;
      expect(done).toBe(true);
      expect(r.message().equals(message)).toBe(true);
    }
  });

  it('a message given in pieces is cut exactly as the joined message, copying only segments that straddle pieces', () => {
    const prng = new Prng(12);
    for (let round = 0; round < 300; round++) {
      const capacity = prng.int(1, 3000);
      const pieces = Array.from({ length: prng.int(1, 5) }, () => prng.bytes(prng.int(0, 8000)));
      const joined = Buffer.concat(pieces);
      const parts = segment(pieces, capacity);
      const expected = segment(joined, capacity);
      expect(parts.map((p) => p.toString('hex'))).toEqual(expected.map((p) => p.toString('hex')));
      // A segment inside one piece is a view of that piece's memory, not a copy.
      let offset = 0;
      const starts = pieces.map((p) => ((offset += p.length), offset - p.length));
      parts.forEach((part, i) => {
        const from = i * capacity;
        const k = starts.findIndex((s, j) => from >= s && from + part.length <= s + pieces[j].length && pieces[j].length > 0);
        if (k >= 0 && part.length > 0) expect(part.buffer === pieces[k].buffer && part.byteOffset === pieces[k].byteOffset + from - starts[k]).toBe(true);
      });
    }
  });
});

describe('malformed input: exact errors', () => {
  const good = () => encodeDatagram(header, encodeCall(calls[12]));
  const recrc = (b: Buffer) => {
    b.writeUInt32BE(referenceCrc32(Buffer.concat([b.subarray(0, 36), b.subarray(40)])), 36);
    return b;
  };

  it('bad magic, length, crc', () => {
    const a = good();
    a[0] = 0x00;
    expectDecodeError(() => decodeDatagram(a), Status.GARBAGE, /magic/);
    expectDecodeError(() => decodeDatagram(Buffer.concat([good(), Buffer.from([0])])), Status.GARBAGE, /header says/);
    const c = good();
    c[45] ^= 0x40;
    expectDecodeError(() => decodeDatagram(c), Status.GARBAGE, /CRC/);
  });

  it('an intact datagram of another version or kind gets BAD_VERSION / BAD_KIND', () => {
    const v = good();
    v[2] = 2;
    expectDecodeError(() => decodeDatagram(recrc(v)), Status.BAD_VERSION, /version 2.*1\.\.1/);
    const k = good();
    k[3] = 9;
    expectDecodeError(() => decodeDatagram(recrc(k)), Status.BAD_KIND, /kind 9/);
    const f = good();
    f[4] = 0x80;
    expectDecodeError(() => decodeDatagram(recrc(f)), Status.GARBAGE, /flags/);
    const s = good();
    s.writeUInt16BE(3, 16);
    expectDecodeError(() => decodeDatagram(recrc(s)), Status.GARBAGE, /segment 3 of 1/);
  });

  it('unknown opcodes, trailing bytes, bad ack ranges, bad segments', () => {
    expectDecodeError(() => decodeCall(Buffer.from('ee00000000000001', 'hex')), Status.BAD_OPCODE, /0xee/);
    expectDecodeError(() => decodeCall(Buffer.concat([encodeCall(calls[1]), Buffer.from([1])])), Status.GARBAGE, /1 trailing/);
    expectDecodeError(() => decodeAck(encodeAck([[3, 1]]), 8), Status.GARBAGE, /out of order/);
    expectDecodeError(() => decodeAck(encodeAck([[0, 2], [2, 4]]), 8), Status.GARBAGE);
    expectDecodeError(() => decodeAck(encodeAck([[0, 8]]), 8), Status.GARBAGE, /beyond 8/);
    expectDecodeError(() => new Reassembly(3, 100, 1396), Status.GARBAGE);
    const r = new Reassembly(2, 2000, 1396);
    expectDecodeError(() => r.add(0, Buffer.alloc(10)), Status.GARBAGE, /expected 1396/);
    expectDecodeError(() => r.add(2, Buffer.alloc(604)), Status.GARBAGE);
    expectDecodeError(() => decodeLogin(Buffer.from('01010120')), Status.GARBAGE);
    expectDecodeError(() => decodeReply(Buffer.from('0c15000000000001', 'hex')), Status.GARBAGE, /unknown status 21/);
    expectDecodeError(() => decodeCall(Buffer.from('0e00000000000001' + '00000001' + '00000000000001', 'hex')), Status.GARBAGE, /cycle/);
    expectDecodeError(() => decodeCall(Buffer.concat([encodeCall(calls[15]), Buffer.from([0])])), Status.GARBAGE, /1 trailing/);
  });

  it('a REPLICA_COMMIT cycle past 2^53 is refused, not rounded', () => {
    const bytes = encodeCall({ op: Opcode.REPLICA_COMMIT, flags: 0, slot: 0, seq: 1, lun: 0, cycle: 1 });
    bytes.writeBigUInt64BE(2n ** 53n, 12);
    expectDecodeError(() => decodeCall(bytes), Status.GARBAGE, /cycle.*2\^53/);
  });

  it('a u64 offset past 2^53 is refused, not rounded', () => {
    const bytes = encodeCall({ op: Opcode.READ, flags: 0, slot: 0, seq: 1, lun: 0, offset: 0, length: 1 });
    bytes.writeBigUInt64BE(2n ** 60n, 12);
    expectDecodeError(() => decodeCall(bytes), Status.GARBAGE, /2\^53/);
  });
});

describe('sealing', () => {
  const key = randomBytes(32);
  const plain = encodeCall(calls[5]).subarray(0, 1300);
  const h = { ...header, messageLength: 1300, flags: 0 };

  it('round trips encrypted and integrity-only, and hides the payload when encrypting', () => {
    const sealed = sealDatagram(key, 1, h, plain);
    const d = decodeDatagram(sealed);
    expect(d.header.flags).toBe(Flag.SEALED);
    expect(sealed.includes(plain.subarray(20, 60))).toBe(false);
    expect(openDatagram(key, 1, d, sealed).equals(plain)).toBe(true);
    const clear = sealDatagram(key, 1, h, plain, true);
    const dc = decodeDatagram(clear);
    expect(dc.header.flags).toBe(Flag.SEALED | Flag.CLEAR);
    expect(dc.payload.equals(plain)).toBe(true);
    expect(openDatagram(key, 1, dc, clear).equals(plain)).toBe(true);
  });

  it('CRCs only the header of a SEALED datagram: a damaged payload passes the CRC and fails authentication', () => {
    for (const clear of [false, true]) {
      const sealed = sealDatagram(key, 1, h, plain, clear);
      expect(sealed.readUInt32BE(36)).toBe(referenceCrc32(sealed.subarray(0, 36)));
      const damaged = Buffer.from(sealed);
      damaged[40 + 700] ^= 0x10;
      expectDecodeError(() => openDatagram(key, 1, decodeDatagram(damaged), damaged), Status.AUTH_FAILED);
      const badHeader = Buffer.from(sealed);
      badHeader[13] ^= 1;
      expectDecodeError(() => decodeDatagram(badHeader), Status.GARBAGE, /CRC/);
    }
  });

  it('sends the pieces of one datagram: header, payload, tag; integrity-only authenticates header then payload as one AAD', () => {
    const [head, body, tag] = sealDatagramParts(key, 1, h, plain, true);
    expect(head.length).toBe(40);
    expect(body.equals(plain)).toBe(true);
    // Reference tag computed independently: one AAD over header bytes 0..35 followed by the payload (section 5).
    const gcm = createCipheriv('aes-256-gcm', key, Buffer.concat([Buffer.from([0, 0, 0, 1]), head.subarray(24, 32)]));
    gcm.setAAD(Buffer.concat([head.subarray(0, 36), plain]));
    gcm.final();
    expect(tag.equals(gcm.getAuthTag())).toBe(true);
    expect(Buffer.concat([head, body, tag]).equals(sealDatagram(key, 1, h, plain, true))).toBe(true);
  });

  it('refuses a wrong key, the other direction, a forged header or payload (with a valid CRC)', () => {
    for (const clear of [false, true]) {
      const sealed = sealDatagram(key, 1, h, plain, clear);
      expectDecodeError(() => openDatagram(randomBytes(32), 1, decodeDatagram(sealed), sealed), Status.AUTH_FAILED);
      expectDecodeError(() => openDatagram(key, 2, decodeDatagram(sealed), sealed), Status.AUTH_FAILED);
      for (const at of [12, 27, 45, 1000]) {
        const forged = Buffer.from(sealed);
        forged[at] ^= 1;
        forged.writeUInt32BE(referenceCrc32(forged.subarray(0, 36)), 36);
        expectDecodeError(() => openDatagram(key, 1, decodeDatagram(forged), forged), Status.AUTH_FAILED);
      }
    }
    const unsealed = encodeDatagram(h, plain);
    expectDecodeError(() => openDatagram(key, 1, decodeDatagram(unsealed), unsealed), Status.AUTH_FAILED, /not sealed/);
  });
});

describe('random bytes', () => {
  it('decoders throw only SbpDecodeError, whatever arrives', () => {
    const prng = new Prng(2026);
    const decoders = [decodeDatagram, decodeCall, decodeReply, decodeLogin, (b: Buffer) => decodeAck(b, 100), decodeError];
    const valid = [encodeDatagram(header, encodeCall(calls[4])), ...calls.map(encodeCall), ...replies.map(encodeReply), ...logins.map(encodeLogin)];
    for (let i = 0; i < 20_000; i++) {
      let input: Buffer;
      if (i % 2 === 0) {
        input = prng.bytes(prng.int(0, 120));
      } else {
        // Valid messages with a few bytes flipped: deeper into the decoders than pure noise gets.
        input = Buffer.from(valid[prng.int(0, valid.length)]);
        for (let k = prng.int(1, 4); k > 0 && input.length > 0; k--) input[prng.int(0, input.length)] = prng.int(0, 256);
      }
      for (const decode of decoders) {
        try {
          decode(input);
        } catch (e) {
          if (!(e instanceof SbpDecodeError)) throw new Error(`${decode.name} threw ${String(e)} on ${input.toString('hex')}`);
        }
      }
    }
  });
});
