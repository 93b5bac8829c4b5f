import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import {
  decodeGoData,
  decodeOptionHeader,
  decodeRequest,
  encodeExportNameReply,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeOptionReply,
  encodeServerEntry,
  encodeSimpleReply,
  NbdProtocolError,
} from './codec';
import { Cmd, Opt, Rep } from './constants';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('NBD codec: reference bytes (from the protocol document)', () => {
  it('greeting: NBDMAGIC, IHAVEOPT, fixed newstyle + no zeroes', () => {
    expect(encodeGreeting().toString('hex')).toBe(Buffer.from('NBDMAGICIHAVEOPT').toString('hex') + '0003');
  });

  it('option header and GO data', () => {
    expect(decodeOptionHeader(hex('49484156454f5054 00000007 0000000a'))).toEqual({ option: Opt.GO, length: 10 });
    expect(decodeGoData(hex('00000004 64697363 0001 0003'))).toEqual({ name: 'disc', requests: [3] });
    expect(decodeGoData(hex('00000000 0000'))).toEqual({ name: '', requests: [] });
  });

  it('option replies, info and list entries', () => {
    expect(encodeOptionReply(Opt.GO, Rep.ACK).toString('hex')).toBe('0003e889045565a9' + '00000007' + '00000001' + '00000000');
    expect(encodeOptionReply(Opt.GO, Rep.ERR_UNKNOWN, Buffer.from('x')).toString('hex')).toBe('0003e889045565a9' + '00000007' + '80000006' + '00000001' + '78');
    expect(encodeInfoExport(2 ** 32, 0x0145).toString('hex')).toBe('0000' + '0000000100000000' + '0145');
    expect(encodeInfoBlockSize(1, 4096, 2 ** 25).toString('hex')).toBe('0003' + '00000001' + '00001000' + '02000000');
    expect(encodeServerEntry('ab').toString('hex')).toBe('00000002' + '6162');
    expect(encodeExportNameReply(512, 3, true).toString('hex')).toBe('0000000000000200' + '0003');
    expect(encodeExportNameReply(512, 3, false).length).toBe(134);
  });

  it('requests and simple replies', () => {
    const req = hex('25609513 0001 0001 0102030405060708 0000000000001000 00000200');
    expect(decodeRequest(req)).toEqual({ flags: 1, type: Cmd.WRITE, handle: hex('0102030405060708'), offset: 4096, length: 512 });
    expect(encodeSimpleReply(28, hex('0102030405060708')).toString('hex')).toBe('67446698' + '0000001c' + '0102030405060708');
  });
});

describe('NBD codec: malformed input', () => {
  it('names what is wrong', () => {
    expect(() => decodeOptionHeader(hex('0000000000000000 00000007 00000000'))).toThrow(/IHAVEOPT/);
    expect(() => decodeOptionHeader(hex('49484156454f5054 00000007 00100001'))).toThrow(/too large/);
    expect(() => decodeGoData(hex('000000ff 00'))).toThrow(/too short|past/);
    expect(() => decodeGoData(hex('00000001 61 0002 0003'))).toThrow(/count/);
    expect(() => decodeRequest(hex('25609514 0000 0000 0000000000000000 0000000000000000 00000000'))).toThrow(/magic/);
    expect(() => decodeRequest(hex('25609513 0000 0000 0000000000000000 ffffffffffffffff 00000000'))).toThrow(/2\^53/);
  });

  it('every truncation of a frame is refused with NbdProtocolError', () => {
    const frames: Array<[(b: Buffer) => unknown, Buffer]> = [
      [decodeOptionHeader, hex('49484156454f5054 00000007 0000000a')],
      [decodeRequest, hex('25609513 0000 0000 0102030405060708 0000000000001000 00000200')],
      [decodeGoData, hex('00000004 64697363 0001 0003')],
    ];
    for (const [decode, frame] of frames) {
      for (let cut = 0; cut < frame.length; cut++) expect(() => decode(frame.subarray(0, cut))).toThrow(NbdProtocolError);
    }
  });

  it('random bytes raise only NbdProtocolError', () => {
    const prng = new Prng(77);
    for (let i = 0; i < 20_000; i++) {
      const b = prng.bytes(prng.int(0, 40));
      for (const decode of [decodeOptionHeader, decodeRequest, decodeGoData]) {
        try {
          decode(b);
        } catch (e) {
          if (!(e instanceof NbdProtocolError)) throw e;
        }
      }
    }
  });
});
