import { networkInterfaces } from 'node:os';
import {
  decodeMapping,
  decodeRpcb,
  encodePmapList,
  encodeRpcbList,
  fromUniversalAddress,
  type Mapping,
  type Rpcb,
  toUniversalAddress,
} from '../../protocols/portmap/codec';
import { PMAP_PROG, PmapProc, RpcbProc } from '../../protocols/portmap/constants';
import type { XdrWriter } from '../../protocols/xdr/xdr';
import { NULL_PROCEDURE, procedure, type RpcContext, type RpcProgram, type RpcVersionTable } from '../rpc/rpc-program';
import type { PortmapRegistry } from './portmap-registry';

const isLoopback = (a: string): boolean => a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
const unmapped = (a: string): string => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

/** Registrations change only from this machine (as rpcbind allows), so a remote client cannot redirect NFS. */
function mayRegister(ctx: RpcContext): boolean {
  return ctx.transport === 'local' || isLoopback(ctx.remoteAddress);
}

/** An address of ours that the client can reach: the one it called, or an interface on its network. */
function localAddressFor(ctx: RpcContext, v6: boolean): string {
  const local = unmapped(ctx.localAddress);
  if (ctx.transport !== 'local' && local !== '0.0.0.0' && local !== '::' && local.includes(':') === v6) return local;
  const remote = unmapped(ctx.remoteAddress);
  if (ctx.transport === 'local' || isLoopback(remote)) return v6 ? '::1' : '127.0.0.1';
  const family = v6 ? 'IPv6' : 'IPv4';
  const candidates = Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && i.family === family && !i.internal);
  const sameNet = candidates.find((i) => i && v4Network(i.address, i.netmask) === v4Network(remote, i.netmask));
  return (sameNet ?? candidates[0])?.address ?? (v6 ? '::1' : '127.0.0.1');
}

function v4Network(addr: string, mask: string): string {
  const a = addr.split('.').map(Number);
  const m = mask.split('.').map(Number);
  return a.length === 4 && m.length === 4 ? a.map((o, i) => o & m[i]).join('.') : addr;
}

/** rpcbind's "merge": a registration on the wildcard address answers with an address of ours the caller reaches. */
function mergedAddress(e: Rpcb, ctx: RpcContext): string {
  const a = fromUniversalAddress(e.r_addr)!;
  if (a.host !== '0.0.0.0' && a.host !== '::') return e.r_addr;
  return toUniversalAddress(localAddressFor(ctx, a.host === '::'), a.port);
}

function transportNetid(ctx: RpcContext): string {
  const v6 = ctx.transport !== 'local' && unmapped(ctx.localAddress).includes(':');
  return (ctx.transport === 'udp' ? 'udp' : 'tcp') + (v6 ? '6' : '');
}

const bool = (w: XdrWriter, v: boolean) => void w.bool(v);
const uint = (w: XdrWriter, v: number) => void w.uint32(v);
const str = (w: XdrWriter, v: string) => void w.string(v);
const nothing = (): void => undefined;

/**
 * The port mapper program (100000) over a registry: version 2 (NULL, SET,
 * UNSET, GETPORT, DUMP) and rpcbind versions 3 and 4 (SET, UNSET, GETADDR,
 * DUMP, GETTIME; v4 GETVERSADDR). CALLIT/BCAST/INDIRECT are not offered
 * (PROC_UNAVAIL): forwarding calls is an amplification risk nobody here needs.
 */
export function portmapProgram(registry: PortmapRegistry, clock: () => number = Date.now): RpcProgram {
  const v2: RpcVersionTable = {
    [PmapProc.PMAPPROC_NULL]: NULL_PROCEDURE,
    /* bool PMAPPROC_SET(mapping) = 1; */
    [PmapProc.PMAPPROC_SET]: procedure({
      name: 'SET',
      decode: decodeMapping,
      handle: (m: Mapping, ctx) => mayRegister(ctx) && registry.setMapping(m),
      encode: bool,
      idempotent: false,
      mutates: true,
    }),
    /* bool PMAPPROC_UNSET(mapping) = 2; */
    [PmapProc.PMAPPROC_UNSET]: procedure({
      name: 'UNSET',
      decode: decodeMapping,
      // RFC 1833: unregisters (prog, vers) whatever the protocol and port.
      handle: (m: Mapping, ctx) => mayRegister(ctx) && registry.unset(m.prog, m.vers),
      encode: bool,
      idempotent: false,
      mutates: true,
    }),
    /* unsigned int PMAPPROC_GETPORT(mapping) = 3; */
    [PmapProc.PMAPPROC_GETPORT]: procedure({
      name: 'GETPORT',
      decode: decodeMapping,
      handle: (m: Mapping) => registry.getport(m.prog, m.vers, m.prot),
      encode: uint,
      idempotent: true,
    }),
    /* pmaplist PMAPPROC_DUMP(void) = 4; */
    [PmapProc.PMAPPROC_DUMP]: procedure({
      name: 'DUMP',
      decode: nothing,
      handle: () => registry.mappings(),
      encode: encodePmapList,
      idempotent: true,
    }),
  };

  // GETADDR lets another version stand in; v4's GETVERSADDR wants the version asked for.
  const getaddr = (name: string, exact: boolean) =>
    procedure({
      name,
      decode: decodeRpcb,
      handle: (b: Rpcb, ctx) => {
        const e = registry.lookup(b.r_prog, b.r_vers, b.r_netid || transportNetid(ctx), exact);
        return e ? mergedAddress(e, ctx) : '';
      },
      encode: str,
      idempotent: true,
    });

  const v3: RpcVersionTable = {
    [RpcbProc.RPCBPROC_NULL]: NULL_PROCEDURE,
    /* bool RPCBPROC_SET(rpcb) = 1; */
    [RpcbProc.RPCBPROC_SET]: procedure({
      name: 'SET',
      decode: decodeRpcb,
      handle: (b: Rpcb, ctx) => mayRegister(ctx) && registry.set({ ...b, r_owner: b.r_owner || 'unknown' }),
      encode: bool,
      idempotent: false,
      mutates: true,
    }),
    /* bool RPCBPROC_UNSET(rpcb) = 2; */
    [RpcbProc.RPCBPROC_UNSET]: procedure({
      name: 'UNSET',
      decode: decodeRpcb,
      handle: (b: Rpcb, ctx) => mayRegister(ctx) && registry.unset(b.r_prog, b.r_vers, b.r_netid),
      encode: bool,
      idempotent: false,
      mutates: true,
    }),
    /* string RPCBPROC_GETADDR(rpcb) = 3; */
    [RpcbProc.RPCBPROC_GETADDR]: getaddr('GETADDR', false),
    /* rpcblist_ptr RPCBPROC_DUMP(void) = 4; */
    [RpcbProc.RPCBPROC_DUMP]: procedure({
      name: 'DUMP',
      decode: nothing,
      handle: () => registry.dump(),
      encode: encodeRpcbList,
      idempotent: true,
    }),
    /* unsigned int RPCBPROC_GETTIME(void) = 6; */
    [RpcbProc.RPCBPROC_GETTIME]: procedure({
      name: 'GETTIME',
      decode: nothing,
      handle: () => Math.floor(clock() / 1000) >>> 0,
      encode: uint,
      idempotent: true,
    }),
  };

  /* string RPCBPROC_GETVERSADDR(rpcb) = 9; (version 4 only) */
  const v4: RpcVersionTable = { ...v3, [RpcbProc.RPCBPROC_GETVERSADDR]: getaddr('GETVERSADDR', true) };

  return { prog: PMAP_PROG, name: 'PORTMAP', versions: { 2: v2, 3: v3, 4: v4 } };
}
