import {
  Cmd,
  Info,
  IHAVEOPT,
  MAX_OPTION_DATA,
  NBDMAGIC,
  OPT_REPLY_MAGIC,
  OPTION_HEADER,
  REPLY_HEADER,
  REQUEST_HEADER,
  REQUEST_MAGIC,
  SIMPLE_REPLY_MAGIC,
  HANDSHAKE_FIXED_NEWSTYLE,
  HANDSHAKE_NO_ZEROES,
  type Rep,
} from './constants';

/** A frame that breaks the protocol: the server answers what it can, then drops the connection. */
export class NbdProtocolError extends Error {
  override name = 'NbdProtocolError';
}

/* S: u64 NBDMAGIC | u64 IHAVEOPT | u16 handshake flags */
export function encodeGreeting(): Buffer {
  const b = Buffer.allocUnsafe(18);
  b.writeBigUInt64BE(NBDMAGIC, 0);
  b.writeBigUInt64BE(IHAVEOPT, 8);
  b.writeUInt16BE(HANDSHAKE_FIXED_NEWSTYLE | HANDSHAKE_NO_ZEROES, 16);
  return b;
}

export interface OptionHeader {
  option: number;
  length: number;
}

/* C: u64 IHAVEOPT | u32 option | u32 length | data */
export function decodeOptionHeader(b: Buffer): OptionHeader {
  if (b.length !== OPTION_HEADER) throw new NbdProtocolError(`option header is ${b.length} bytes`);
  if (b.readBigUInt64BE(0) !== IHAVEOPT) throw new NbdProtocolError('option without IHAVEOPT magic');
  const length = b.readUInt32BE(12);
  if (length > MAX_OPTION_DATA) throw new NbdProtocolError(`option data of ${length} bytes is too large`);
  return { option: b.readUInt32BE(8), length };
}

/* S: u64 reply magic | u32 option | u32 reply type | u32 length | data */
export function encodeOptionReply(option: number, type: Rep, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.allocUnsafe(20 + data.length);
  b.writeBigUInt64BE(OPT_REPLY_MAGIC, 0);
  b.writeUInt32BE(option, 8);
  b.writeUInt32BE(type >>> 0, 12);
  b.writeUInt32BE(data.length, 16);
  data.copy(b, 20);
  return b;
}

/** NBD_OPT_GO / NBD_OPT_INFO data: u32 name length | name | u16 count | count × u16 info request. */
export function decodeGoData(data: Buffer): { name: string; requests: number[] } {
  if (data.length < 6) throw new NbdProtocolError('NBD_OPT_GO data too short');
  const nameLength = data.readUInt32BE(0);
  if (4 + nameLength + 2 > data.length) throw new NbdProtocolError('NBD_OPT_GO name runs past the option');
  const name = data.toString('utf8', 4, 4 + nameLength);
  const count = data.readUInt16BE(4 + nameLength);
  if (6 + nameLength + 2 * count !== data.length) throw new NbdProtocolError('NBD_OPT_GO info request count disagrees with its length');
  const requests: number[] = [];
  for (let i = 0; i < count; i++) requests.push(data.readUInt16BE(6 + nameLength + 2 * i));
  return { name, requests };
}

/* NBD_INFO_EXPORT: u16 type | u64 size | u16 transmission flags */
export function encodeInfoExport(size: number, flags: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt16BE(Info.EXPORT, 0);
  b.writeBigUInt64BE(BigInt(size), 2);
  b.writeUInt16BE(flags, 10);
  return b;
}

/* NBD_INFO_BLOCK_SIZE: u16 type | u32 minimum | u32 preferred | u32 maximum */
export function encodeInfoBlockSize(min: number, preferred: number, max: number): Buffer {
  const b = Buffer.allocUnsafe(14);
  b.writeUInt16BE(Info.BLOCK_SIZE, 0);
  b.writeUInt32BE(min, 2);
  b.writeUInt32BE(preferred, 6);
  b.writeUInt32BE(max, 10);
  return b;
}

/* NBD_REP_SERVER for NBD_OPT_LIST: u32 name length | name */
export function encodeServerEntry(name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.allocUnsafe(4 + n.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  return b;
}

/* Reply to NBD_OPT_EXPORT_NAME: u64 size | u16 transmission flags | 124 zero bytes unless NO_ZEROES */
export function encodeExportNameReply(size: number, flags: number, noZeroes: boolean): Buffer {
  const b = Buffer.alloc(noZeroes ? 10 : 134);
  b.writeBigUInt64BE(BigInt(size), 0);
  b.writeUInt16BE(flags, 8);
  return b;
}

export interface Request {
  flags: number;
  type: Cmd;
  /** The client's opaque cookie, echoed in the reply. */
  handle: Buffer;
  offset: number;
  length: number;
}

/* C: u32 magic | u16 command flags | u16 type | u64 handle | u64 offset | u32 length | data (WRITE) */
export function decodeRequest(b: Buffer): Request {
  if (b.length !== REQUEST_HEADER) throw new NbdProtocolError(`request header is ${b.length} bytes`);
  if (b.readUInt32BE(0) !== REQUEST_MAGIC) throw new NbdProtocolError('bad request magic');
  const offset = b.readBigUInt64BE(16);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new NbdProtocolError('request offset beyond 2^53');
  return { flags: b.readUInt16BE(4), type: b.readUInt16BE(6) as Cmd, handle: b.subarray(8, 16), offset: Number(offset), length: b.readUInt32BE(24) };
}

/* S: u32 magic | u32 error | u64 handle (then the data of a successful READ) */
export function encodeSimpleReply(error: number, handle: Buffer): Buffer {
  const b = Buffer.allocUnsafe(REPLY_HEADER);
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error, 4);
  handle.copy(b, 8, 0, 8);
  return b;
}
