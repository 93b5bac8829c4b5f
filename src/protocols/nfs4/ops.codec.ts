/**
 * Arguments and results of every NFSv4.1 operation this server implements (RFC 8881 section 18, XDR from
 * RFC 5662), one codec per operation in OP_CODECS. Results whose body depends on the status follow the
 * RFC's unions: most carry a body only for NFS4_OK (`resok`), LOCK and LOCKT carry LOCK4denied for
 * NFS4ERR_DENIED, SETATTR always carries attrsset.
 */

import type { XdrReader, XdrWriter } from '../xdr/xdr';
import {
  arrayOf,
  callback_sec_parms4,
  change_info4,
  channel_attrs4,
  clientid4,
  component4,
  linktext4,
  nfs_fh4,
  nfs_impl_id4,
  sessionid4,
  state_owner4,
  type state_protect_ops4,
  stateid4,
  verifier4,
  type XdrCodec,
} from './common.codec';
import { NFS4_OPAQUE_LIMIT, nfs_opnum4 as OP, nfsstat4, RPCSEC_GSS } from './constants';
import { type bitmap4, type Fattr4, readBitmap4, readFattr4, writeBitmap4, writeFattr4 } from './fattr4.codec';

/** A result that has a body only when the status is NFS4_OK. */
export interface Res<T> {
  status: nfsstat4;
  resok?: T;
}

const VOID: XdrCodec<void> = { read: () => undefined, write: () => undefined };

function ok<T>(body: XdrCodec<T>, what: string): XdrCodec<Res<T>> {
  return {
    read: (r) => {
      const status = r.uint32(`${what} status`) as nfsstat4;
      return status === nfsstat4.NFS4_OK ? { status, resok: body.read(r) } : { status };
    },
    write: (w, v) => {
      w.uint32(v.status);
      if (v.status === nfsstat4.NFS4_OK) {
        if (v.resok === undefined && body !== VOID) throw new Error(`${what}: NFS4_OK without a result body`);
        body.write(w, v.resok as T);
      }
    },
  };
}

const status: XdrCodec<Res<void>> = { read: (r) => ({ status: r.uint32('status') as nfsstat4 }), write: (w, v) => void w.uint32(v.status) };
const u32 = (what: string): XdrCodec<number> => ({ read: (r) => r.uint32(what), write: (w, v) => void w.uint32(v) });
const fattr4: XdrCodec<Fattr4> = { read: (r) => readFattr4(r), write: writeFattr4 };
const bitmap: XdrCodec<bitmap4> = { read: (r) => readBitmap4(r), write: writeBitmap4 };
const stateidRes: XdrCodec<Res<stateid4>> = ok(stateid4, 'stateid result');

// ---- session and client id operations -------------------------------------------------------------

/* struct client_owner4 { verifier4 co_verifier; opaque co_ownerid<NFS4_OPAQUE_LIMIT>; }; */
export interface client_owner4 {
  co_verifier: Buffer;
  co_ownerid: Buffer;
}

/*
 * struct ssv_sp_parms4 { state_protect_ops4 ssp_ops; sec_oid4 ssp_hash_algs<>; sec_oid4 ssp_encr_algs<>; uint32_t ssp_window; uint32_t ssp_num_gss_handles; };
 * union state_protect4_a switch (state_protect_how4 spa_how) { case SP4_NONE: void; case SP4_MACH_CRED: state_protect_ops4 spa_mach_ops; case SP4_SSV: ssv_sp_parms4 spa_ssv_parms; };
 */
export type state_protect4_a =
  | { spa_how: 0 }
  | { spa_how: 1; spa_mach_ops: state_protect_ops4 }
  | { spa_how: 2; spa_ssv_parms: { ssp_ops: state_protect_ops4; ssp_hash_algs: Buffer[]; ssp_encr_algs: Buffer[]; ssp_window: number; ssp_num_gss_handles: number } };

const protectOps: XdrCodec<state_protect_ops4> = {
  read: (r) => ({ spo_must_enforce: readBitmap4(r), spo_must_allow: readBitmap4(r) }),
  write: (w, v) => {
    writeBitmap4(w, v.spo_must_enforce);
    writeBitmap4(w, v.spo_must_allow);
  },
};
const oids = arrayOf<Buffer>({ read: (r) => r.varOpaque(NFS4_OPAQUE_LIMIT, 'sec_oid4'), write: (w, v) => void w.varOpaque(v) }, 16, 'sec_oid4 list');
const HOW: ReadonlySet<number> = new Set([0, 1, 2]);

const stateProtectA: XdrCodec<state_protect4_a> = {
  read: (r) => {
    const how = r.enumOf<0 | 1 | 2>(HOW, 'state_protect_how4');
    if (how === 0) return { spa_how: 0 };
    if (how === 1) return { spa_how: 1, spa_mach_ops: protectOps.read(r) };
    return { spa_how: 2, spa_ssv_parms: { ssp_ops: protectOps.read(r), ssp_hash_algs: oids.read(r), ssp_encr_algs: oids.read(r), ssp_window: r.uint32(), ssp_num_gss_handles: r.uint32() } };
  },
  write: (w, v) => {
    w.uint32(v.spa_how);
    if (v.spa_how === 1) protectOps.write(w, v.spa_mach_ops);
    else if (v.spa_how === 2) {
      const p = v.spa_ssv_parms;
      protectOps.write(w, p.ssp_ops);
      oids.write(w, p.ssp_hash_algs);
      oids.write(w, p.ssp_encr_algs);
      w.uint32(p.ssp_window).uint32(p.ssp_num_gss_handles);
    }
  },
};

/* struct EXCHANGE_ID4args { client_owner4 eia_clientowner; uint32_t eia_flags; state_protect4_a eia_state_protect; nfs_impl_id4 eia_client_impl_id<1>; }; */
export interface EXCHANGE_ID4args {
  eia_clientowner: client_owner4;
  eia_flags: number;
  eia_state_protect: state_protect4_a;
  eia_client_impl_id: nfs_impl_id4[];
}

/*
 * struct ssv_prot_info4 { state_protect_ops4 spi_ops; uint32_t spi_hash_alg; uint32_t spi_encr_alg; uint32_t spi_ssv_len; uint32_t spi_window; gsshandle4_t spi_handles<>; };
 * union state_protect4_r switch (state_protect_how4 spr_how) { case SP4_NONE: void; case SP4_MACH_CRED: state_protect_ops4 spr_mach_ops; case SP4_SSV: ssv_prot_info4 spr_ssv_info; };
 * struct server_owner4 { uint64_t so_minor_id; opaque so_major_id<NFS4_OPAQUE_LIMIT>; };
 * struct EXCHANGE_ID4resok { clientid4 eir_clientid; sequenceid4 eir_sequenceid; uint32_t eir_flags; state_protect4_r eir_state_protect;
 *   server_owner4 eir_server_owner; opaque eir_server_scope<NFS4_OPAQUE_LIMIT>; nfs_impl_id4 eir_server_impl_id<1>; };
 */
export type state_protect4_r =
  | { spr_how: 0 }
  | { spr_how: 1; spr_mach_ops: state_protect_ops4 }
  | { spr_how: 2; spr_ssv_info: { spi_ops: state_protect_ops4; spi_hash_alg: number; spi_encr_alg: number; spi_ssv_len: number; spi_window: number; spi_handles: Buffer[] } };

const handles = arrayOf<Buffer>({ read: (r) => r.varOpaque(0xffffffff, 'gsshandle4_t'), write: (w, v) => void w.varOpaque(v) }, 64, 'spi_handles');

const stateProtectR: XdrCodec<state_protect4_r> = {
  read: (r) => {
    const how = r.enumOf<0 | 1 | 2>(HOW, 'state_protect_how4');
    if (how === 0) return { spr_how: 0 };
    if (how === 1) return { spr_how: 1, spr_mach_ops: protectOps.read(r) };
    return { spr_how: 2, spr_ssv_info: { spi_ops: protectOps.read(r), spi_hash_alg: r.uint32(), spi_encr_alg: r.uint32(), spi_ssv_len: r.uint32(), spi_window: r.uint32(), spi_handles: handles.read(r) } };
  },
  write: (w, v) => {
    w.uint32(v.spr_how);
    if (v.spr_how === 1) protectOps.write(w, v.spr_mach_ops);
    else if (v.spr_how === 2) {
      const s = v.spr_ssv_info;
      protectOps.write(w, s.spi_ops);
      w.uint32(s.spi_hash_alg).uint32(s.spi_encr_alg).uint32(s.spi_ssv_len).uint32(s.spi_window);
      handles.write(w, s.spi_handles);
    }
  },
};

export interface EXCHANGE_ID4resok {
  eir_clientid: bigint;
  eir_sequenceid: number;
  eir_flags: number;
  eir_state_protect: state_protect4_r;
  eir_server_owner: { so_minor_id: bigint; so_major_id: Buffer };
  eir_server_scope: Buffer;
  eir_server_impl_id: nfs_impl_id4[];
}

const implIds = arrayOf(nfs_impl_id4, 1, 'nfs_impl_id4');

const EXCHANGE_ID = {
  args: {
    read: (r: XdrReader): EXCHANGE_ID4args => ({
      eia_clientowner: { co_verifier: verifier4.read(r), co_ownerid: r.varOpaque(NFS4_OPAQUE_LIMIT, 'co_ownerid') },
      eia_flags: r.uint32('eia_flags'),
      eia_state_protect: stateProtectA.read(r),
      eia_client_impl_id: implIds.read(r),
    }),
    write: (w: XdrWriter, v: EXCHANGE_ID4args) => {
      verifier4.write(w, v.eia_clientowner.co_verifier);
      w.varOpaque(v.eia_clientowner.co_ownerid).uint32(v.eia_flags);
      stateProtectA.write(w, v.eia_state_protect);
      implIds.write(w, v.eia_client_impl_id);
    },
  },
  res: ok<EXCHANGE_ID4resok>(
    {
      read: (r) => ({
        eir_clientid: clientid4.read(r),
        eir_sequenceid: r.uint32('eir_sequenceid'),
        eir_flags: r.uint32('eir_flags'),
        eir_state_protect: stateProtectR.read(r),
        eir_server_owner: { so_minor_id: r.uhyperBig('so_minor_id'), so_major_id: r.varOpaque(NFS4_OPAQUE_LIMIT, 'so_major_id') },
        eir_server_scope: r.varOpaque(NFS4_OPAQUE_LIMIT, 'eir_server_scope'),
        eir_server_impl_id: implIds.read(r),
      }),
      write: (w, v) => {
        w.uhyper(v.eir_clientid).uint32(v.eir_sequenceid).uint32(v.eir_flags);
        stateProtectR.write(w, v.eir_state_protect);
        w.uhyper(v.eir_server_owner.so_minor_id).varOpaque(v.eir_server_owner.so_major_id).varOpaque(v.eir_server_scope);
        implIds.write(w, v.eir_server_impl_id);
      },
    },
    'EXCHANGE_ID4res',
  ),
};

/*
 * struct CREATE_SESSION4args { clientid4 csa_clientid; sequenceid4 csa_sequence; uint32_t csa_flags; channel_attrs4 csa_fore_chan_attrs;
 *   channel_attrs4 csa_back_chan_attrs; uint32_t csa_cb_program; callback_sec_parms4 csa_sec_parms<>; };
 * struct CREATE_SESSION4resok { sessionid4 csr_sessionid; sequenceid4 csr_sequence; uint32_t csr_flags; channel_attrs4 csr_fore_chan_attrs; channel_attrs4 csr_back_chan_attrs; };
 */
export interface CREATE_SESSION4args {
  csa_clientid: bigint;
  csa_sequence: number;
  csa_flags: number;
  csa_fore_chan_attrs: channel_attrs4;
  csa_back_chan_attrs: channel_attrs4;
  csa_cb_program: number;
  csa_sec_parms: callback_sec_parms4[];
}

export interface CREATE_SESSION4resok {
  csr_sessionid: Buffer;
  csr_sequence: number;
  csr_flags: number;
  csr_fore_chan_attrs: channel_attrs4;
  csr_back_chan_attrs: channel_attrs4;
}

const secParms = arrayOf(callback_sec_parms4, 16, 'callback_sec_parms4 list');

const CREATE_SESSION = {
  args: {
    read: (r: XdrReader): CREATE_SESSION4args => ({
      csa_clientid: clientid4.read(r),
      csa_sequence: r.uint32('csa_sequence'),
      csa_flags: r.uint32('csa_flags'),
      csa_fore_chan_attrs: channel_attrs4.read(r),
      csa_back_chan_attrs: channel_attrs4.read(r),
      csa_cb_program: r.uint32('csa_cb_program'),
      csa_sec_parms: secParms.read(r),
    }),
    write: (w: XdrWriter, v: CREATE_SESSION4args) => {
      w.uhyper(v.csa_clientid).uint32(v.csa_sequence).uint32(v.csa_flags);
      channel_attrs4.write(w, v.csa_fore_chan_attrs);
      channel_attrs4.write(w, v.csa_back_chan_attrs);
      w.uint32(v.csa_cb_program);
      secParms.write(w, v.csa_sec_parms);
    },
  },
  res: ok<CREATE_SESSION4resok>(
    {
      read: (r) => ({
        csr_sessionid: sessionid4.read(r),
        csr_sequence: r.uint32('csr_sequence'),
        csr_flags: r.uint32('csr_flags'),
        csr_fore_chan_attrs: channel_attrs4.read(r),
        csr_back_chan_attrs: channel_attrs4.read(r),
      }),
      write: (w, v) => {
        sessionid4.write(w, v.csr_sessionid);
        w.uint32(v.csr_sequence).uint32(v.csr_flags);
        channel_attrs4.write(w, v.csr_fore_chan_attrs);
        channel_attrs4.write(w, v.csr_back_chan_attrs);
      },
    },
    'CREATE_SESSION4res',
  ),
};

/* struct SEQUENCE4args { sessionid4 sa_sessionid; sequenceid4 sa_sequenceid; slotid4 sa_slotid; slotid4 sa_highest_slotid; bool sa_cachethis; }; */
export interface SEQUENCE4args {
  sa_sessionid: Buffer;
  sa_sequenceid: number;
  sa_slotid: number;
  sa_highest_slotid: number;
  sa_cachethis: boolean;
}

/* struct SEQUENCE4resok { sessionid4 sr_sessionid; sequenceid4 sr_sequenceid; slotid4 sr_slotid; slotid4 sr_highest_slotid; slotid4 sr_target_highest_slotid; uint32_t sr_status_flags; }; */
export interface SEQUENCE4resok {
  sr_sessionid: Buffer;
  sr_sequenceid: number;
  sr_slotid: number;
  sr_highest_slotid: number;
  sr_target_highest_slotid: number;
  sr_status_flags: number;
}

const SEQUENCE = {
  args: {
    read: (r: XdrReader): SEQUENCE4args => ({
      sa_sessionid: sessionid4.read(r),
      sa_sequenceid: r.uint32('sa_sequenceid'),
      sa_slotid: r.uint32('sa_slotid'),
      sa_highest_slotid: r.uint32('sa_highest_slotid'),
      sa_cachethis: r.bool('sa_cachethis'),
    }),
    write: (w: XdrWriter, v: SEQUENCE4args) => {
      sessionid4.write(w, v.sa_sessionid);
      w.uint32(v.sa_sequenceid).uint32(v.sa_slotid).uint32(v.sa_highest_slotid).bool(v.sa_cachethis);
    },
  },
  res: ok<SEQUENCE4resok>(
    {
      read: (r) => ({
        sr_sessionid: sessionid4.read(r),
        sr_sequenceid: r.uint32(),
        sr_slotid: r.uint32(),
        sr_highest_slotid: r.uint32(),
        sr_target_highest_slotid: r.uint32(),
        sr_status_flags: r.uint32(),
      }),
      write: (w, v) => {
        sessionid4.write(w, v.sr_sessionid);
        w.uint32(v.sr_sequenceid).uint32(v.sr_slotid).uint32(v.sr_highest_slotid).uint32(v.sr_target_highest_slotid).uint32(v.sr_status_flags);
      },
    },
    'SEQUENCE4res',
  ),
};

/* struct BIND_CONN_TO_SESSION4args { sessionid4 bctsa_sessid; channel_dir_from_client4 bctsa_dir; bool bctsa_use_conn_in_rdma_mode; }; */
export interface BIND_CONN_TO_SESSION4args {
  bctsa_sessid: Buffer;
  bctsa_dir: number;
  bctsa_use_conn_in_rdma_mode: boolean;
}

/* struct BIND_CONN_TO_SESSION4resok { sessionid4 bctsr_sessid; channel_dir_from_server4 bctsr_dir; bool bctsr_use_conn_in_rdma_mode; }; */
export interface BIND_CONN_TO_SESSION4resok {
  bctsr_sessid: Buffer;
  bctsr_dir: number;
  bctsr_use_conn_in_rdma_mode: boolean;
}

const CDFC: ReadonlySet<number> = new Set([1, 2, 3, 7]);
const CDFS: ReadonlySet<number> = new Set([1, 2, 3]);

const BIND_CONN_TO_SESSION = {
  args: {
    read: (r: XdrReader): BIND_CONN_TO_SESSION4args => ({ bctsa_sessid: sessionid4.read(r), bctsa_dir: r.enumOf(CDFC, 'channel_dir_from_client4'), bctsa_use_conn_in_rdma_mode: r.bool() }),
    write: (w: XdrWriter, v: BIND_CONN_TO_SESSION4args) => {
      sessionid4.write(w, v.bctsa_sessid);
      w.uint32(v.bctsa_dir).bool(v.bctsa_use_conn_in_rdma_mode);
    },
  },
  res: ok<BIND_CONN_TO_SESSION4resok>(
    {
      read: (r) => ({ bctsr_sessid: sessionid4.read(r), bctsr_dir: r.enumOf(CDFS, 'channel_dir_from_server4'), bctsr_use_conn_in_rdma_mode: r.bool() }),
      write: (w, v) => {
        sessionid4.write(w, v.bctsr_sessid);
        w.uint32(v.bctsr_dir).bool(v.bctsr_use_conn_in_rdma_mode);
      },
    },
    'BIND_CONN_TO_SESSION4res',
  ),
};

/* struct BACKCHANNEL_CTL4args { uint32_t bca_cb_program; callback_sec_parms4 bca_sec_parms<>; }; */
export interface BACKCHANNEL_CTL4args {
  bca_cb_program: number;
  bca_sec_parms: callback_sec_parms4[];
}

const BACKCHANNEL_CTL = {
  args: {
    read: (r: XdrReader): BACKCHANNEL_CTL4args => ({ bca_cb_program: r.uint32('bca_cb_program'), bca_sec_parms: secParms.read(r) }),
    write: (w: XdrWriter, v: BACKCHANNEL_CTL4args) => {
      w.uint32(v.bca_cb_program);
      secParms.write(w, v.bca_sec_parms);
    },
  },
  res: status,
};

// ---- file handles and names --------------------------------------------------------------------------

/*
 * struct rpcsec_gss_info { sec_oid4 oid; qop4 qop; rpc_gss_svc_t service; };
 * union secinfo4 switch (uint32_t flavor) { case RPCSEC_GSS: rpcsec_gss_info flavor_info; default: void; };
 * typedef secinfo4 SECINFO4resok<>;
 */
export type secinfo4 = { flavor: number } | { flavor: typeof RPCSEC_GSS; flavor_info: { oid: Buffer; qop: number; service: number } };

const secinfo4: XdrCodec<secinfo4> = {
  read: (r) => {
    const flavor = r.uint32('secinfo4.flavor');
    if (flavor !== RPCSEC_GSS) return { flavor };
    return { flavor, flavor_info: { oid: r.varOpaque(NFS4_OPAQUE_LIMIT, 'sec_oid4'), qop: r.uint32('qop4'), service: r.uint32('rpc_gss_svc_t') } };
  },
  write: (w, v) => {
    w.uint32(v.flavor);
    if ('flavor_info' in v) w.varOpaque(v.flavor_info.oid).uint32(v.flavor_info.qop).uint32(v.flavor_info.service);
  },
};
const secinfoRes = ok(arrayOf(secinfo4, 64, 'SECINFO4resok'), 'SECINFO4res');

// ---- directory operations -------------------------------------------------------------------------

/* union createtype4 switch (nfs_ftype4 type) { case NF4LNK: linktext4 linkdata; case NF4BLK: case NF4CHR: specdata4 devdata; case NF4SOCK: case NF4FIFO: case NF4DIR: void; default: void; }; */
export type createtype4 = { type: 5; linkdata: string } | { type: 3 | 4; devdata: { specdata1: number; specdata2: number } } | { type: number };

/* struct CREATE4args { createtype4 objtype; component4 objname; fattr4 createattrs; }; */
export interface CREATE4args {
  objtype: createtype4;
  objname: string;
  createattrs: Fattr4;
}

const createtype4: XdrCodec<createtype4> = {
  read: (r) => {
    const type = r.uint32('nfs_ftype4');
    if (type === 5) return { type, linkdata: linktext4.read(r) };
    if (type === 3 || type === 4) return { type, devdata: { specdata1: r.uint32(), specdata2: r.uint32() } };
    return { type };
  },
  write: (w, v) => {
    w.uint32(v.type);
    if ('linkdata' in v) linktext4.write(w, v.linkdata);
    else if ('devdata' in v) w.uint32(v.devdata.specdata1).uint32(v.devdata.specdata2);
  },
};

/* struct CREATE4resok { change_info4 cinfo; bitmap4 attrset; }; */
export interface CREATE4resok {
  cinfo: change_info4;
  attrset: bitmap4;
}

const cinfoAttrset: XdrCodec<CREATE4resok> = {
  read: (r) => ({ cinfo: change_info4.read(r), attrset: readBitmap4(r) }),
  write: (w, v) => {
    change_info4.write(w, v.cinfo);
    writeBitmap4(w, v.attrset);
  },
};

/* struct entry4 { nfs_cookie4 cookie; component4 name; fattr4 attrs; entry4 *nextentry; }; struct dirlist4 { entry4 *entries; bool eof; }; */
export interface entry4 {
  cookie: number;
  name: string;
  attrs: Fattr4;
}

/* struct READDIR4args { nfs_cookie4 cookie; verifier4 cookieverf; count4 dircount; count4 maxcount; bitmap4 attr_request; }; */
export interface READDIR4args {
  cookie: number;
  cookieverf: Buffer;
  dircount: number;
  maxcount: number;
  attr_request: bitmap4;
}

/* struct READDIR4resok { verifier4 cookieverf; dirlist4 reply; }; */
export interface READDIR4resok {
  cookieverf: Buffer;
  reply: { entries: entry4[]; eof: boolean };
}

const entry4: XdrCodec<entry4> = {
  read: (r) => ({ cookie: r.uhyperClamped('nfs_cookie4'), name: component4.read(r), attrs: readFattr4(r) }),
  write: (w, v) => {
    w.uhyper(v.cookie);
    component4.write(w, v.name);
    writeFattr4(w, v.attrs);
  },
};

const READDIR = {
  args: {
    read: (r: XdrReader): READDIR4args => ({ cookie: r.uhyperClamped('nfs_cookie4'), cookieverf: verifier4.read(r), dircount: r.uint32('dircount'), maxcount: r.uint32('maxcount'), attr_request: readBitmap4(r) }),
    write: (w: XdrWriter, v: READDIR4args) => {
      w.uhyper(v.cookie);
      verifier4.write(w, v.cookieverf);
      w.uint32(v.dircount).uint32(v.maxcount);
      writeBitmap4(w, v.attr_request);
    },
  },
  res: ok<READDIR4resok>(
    {
      // A long listing is a long XDR list: the bound is the reply itself, each entry taking at least 28 bytes.
      read: (r) => ({ cookieverf: verifier4.read(r), reply: { entries: r.list((x) => entry4.read(x), 0xffffffff, 'entry4'), eof: r.bool('eof') } }),
      write: (w, v) => {
        verifier4.write(w, v.cookieverf);
        w.list(v.reply.entries, (x, e) => entry4.write(x, e)).bool(v.reply.eof);
      },
    },
    'READDIR4res',
  ),
};

// ---- opens, locks and data -------------------------------------------------------------------------

/*
 * struct creatverfattr { verifier4 cva_verf; fattr4 cva_attrs; };
 * union createhow4 switch (createmode4 mode) { case UNCHECKED4: case GUARDED4: fattr4 createattrs; case EXCLUSIVE4: verifier4 createverf; case EXCLUSIVE4_1: creatverfattr ch_createboth; };
 * union openflag4 switch (opentype4 opentype) { case OPEN4_CREATE: createhow4 how; default: void; };
 */
export type createhow4 = { mode: 0 | 1; createattrs: Fattr4 } | { mode: 2; createverf: Buffer } | { mode: 3; ch_createboth: { cva_verf: Buffer; cva_attrs: Fattr4 } };
export type openflag4 = { opentype: 0 } | { opentype: 1; how: createhow4 };

/*
 * struct open_claim_delegate_cur4 { stateid4 delegate_stateid; component4 file; };
 * union open_claim4 switch (open_claim_type4 claim) { case CLAIM_NULL: component4 file; case CLAIM_PREVIOUS: open_delegation_type4 delegate_type;
 *   case CLAIM_DELEGATE_CUR: open_claim_delegate_cur4 delegate_cur_info; case CLAIM_DELEGATE_PREV: component4 file_delegate_prev;
 *   case CLAIM_FH: void; case CLAIM_DELEG_PREV_FH: void; case CLAIM_DELEG_CUR_FH: stateid4 oc_delegate_stateid; };
 */
export type open_claim4 =
  | { claim: 0; file: string }
  | { claim: 1; delegate_type: number }
  | { claim: 2; delegate_cur_info: { delegate_stateid: stateid4; file: string } }
  | { claim: 3; file_delegate_prev: string }
  | { claim: 4 | 6 }
  | { claim: 5; oc_delegate_stateid: stateid4 };

/* struct OPEN4args { seqid4 seqid; uint32_t share_access; uint32_t share_deny; open_owner4 owner; openflag4 openhow; open_claim4 claim; }; */
export interface OPEN4args {
  seqid: number;
  share_access: number;
  share_deny: number;
  owner: state_owner4;
  openhow: openflag4;
  claim: open_claim4;
}

const CREATEMODES: ReadonlySet<number> = new Set([0, 1, 2, 3]);
const OPENTYPES: ReadonlySet<number> = new Set([0, 1]);
const CLAIMS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6]);
const DELEG_TYPES: ReadonlySet<number> = new Set([0, 1, 2, 3]);

const openflag4: XdrCodec<openflag4> = {
  read: (r) => {
    if (r.enumOf(OPENTYPES, 'opentype4') === 0) return { opentype: 0 };
    const mode = r.enumOf<0 | 1 | 2 | 3>(CREATEMODES, 'createmode4');
    if (mode === 2) return { opentype: 1, how: { mode, createverf: verifier4.read(r) } };
    if (mode === 3) return { opentype: 1, how: { mode, ch_createboth: { cva_verf: verifier4.read(r), cva_attrs: readFattr4(r) } } };
    return { opentype: 1, how: { mode, createattrs: readFattr4(r) } };
  },
  write: (w, v) => {
    w.uint32(v.opentype);
    if (v.opentype === 0) return;
    const h = v.how;
    w.uint32(h.mode);
    if (h.mode === 2) verifier4.write(w, h.createverf);
    else if (h.mode === 3) {
      verifier4.write(w, h.ch_createboth.cva_verf);
      writeFattr4(w, h.ch_createboth.cva_attrs);
    } else writeFattr4(w, h.createattrs);
  },
};

const open_claim4: XdrCodec<open_claim4> = {
  read: (r) => {
    const claim = r.enumOf<open_claim4['claim']>(CLAIMS, 'open_claim_type4');
    switch (claim) {
      case 0:
        return { claim, file: component4.read(r) };
      case 1:
        return { claim, delegate_type: r.enumOf(DELEG_TYPES, 'open_delegation_type4') };
      case 2:
        return { claim, delegate_cur_info: { delegate_stateid: stateid4.read(r), file: component4.read(r) } };
      case 3:
        return { claim, file_delegate_prev: component4.read(r) };
      case 5:
        return { claim, oc_delegate_stateid: stateid4.read(r) };
      default:
        return { claim };
    }
  },
  write: (w, v) => {
    w.uint32(v.claim);
    if (v.claim === 0) component4.write(w, v.file);
    else if (v.claim === 1) w.uint32(v.delegate_type);
    else if (v.claim === 2) {
      stateid4.write(w, v.delegate_cur_info.delegate_stateid);
      component4.write(w, v.delegate_cur_info.file);
    } else if (v.claim === 3) component4.write(w, v.file_delegate_prev);
    else if (v.claim === 5) stateid4.write(w, v.oc_delegate_stateid);
  },
};

/*
 * struct nfsace4 { acetype4 type; aceflag4 flag; acemask4 access_mask; utf8str_mixed who; };
 * union nfs_space_limit4 switch (limit_by4 limitby) { case NFS_LIMIT_SIZE: uint64_t filesize; case NFS_LIMIT_BLOCKS: nfs_modified_limit4 mod_blocks; };
 * struct open_read_delegation4 { stateid4 stateid; bool recall; nfsace4 permissions; };
 * struct open_write_delegation4 { stateid4 stateid; bool recall; nfs_space_limit4 space_limit; nfsace4 permissions; };
 * union open_none_delegation4 switch (why_no_delegation4 ond_why) { case WND4_CONTENTION: bool ond_server_will_push_deleg; case WND4_RESOURCE: bool ond_server_will_signal_avail; default: void; };
 * union open_delegation4 switch (open_delegation_type4 delegation_type) { case OPEN_DELEGATE_NONE: void; case OPEN_DELEGATE_READ: open_read_delegation4 read;
 *   case OPEN_DELEGATE_WRITE: open_write_delegation4 write; case OPEN_DELEGATE_NONE_EXT: open_none_delegation4 od_whynone; };
 */
export interface nfsace4 {
  type: number;
  flag: number;
  access_mask: number;
  who: Buffer;
}
export type nfs_space_limit4 = { limitby: 1; filesize: bigint } | { limitby: 2; mod_blocks: { num_blocks: number; bytes_per_block: number } };
export type open_delegation4 =
  | { delegation_type: 0 }
  | { delegation_type: 1; read: { stateid: stateid4; recall: boolean; permissions: nfsace4 } }
  | { delegation_type: 2; write: { stateid: stateid4; recall: boolean; space_limit: nfs_space_limit4; permissions: nfsace4 } }
  | { delegation_type: 3; od_whynone: { ond_why: number; flag?: boolean } };

const nfsace4: XdrCodec<nfsace4> = {
  read: (r) => ({ type: r.uint32(), flag: r.uint32(), access_mask: r.uint32(), who: r.varOpaque(NFS4_OPAQUE_LIMIT, 'who') }),
  write: (w, v) => void w.uint32(v.type).uint32(v.flag).uint32(v.access_mask).varOpaque(v.who),
};
const LIMITS: ReadonlySet<number> = new Set([1, 2]);
const WHY: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]);

const open_delegation4: XdrCodec<open_delegation4> = {
  read: (r) => {
    const t = r.enumOf<0 | 1 | 2 | 3>(DELEG_TYPES, 'open_delegation_type4');
    if (t === 0) return { delegation_type: 0 };
    if (t === 1) return { delegation_type: 1, read: { stateid: stateid4.read(r), recall: r.bool(), permissions: nfsace4.read(r) } };
    if (t === 2) {
      const stateid = stateid4.read(r);
      const recall = r.bool();
      const limitby = r.enumOf<1 | 2>(LIMITS, 'limit_by4');
      const space_limit: nfs_space_limit4 = limitby === 1 ? { limitby, filesize: r.uhyperBig() } : { limitby, mod_blocks: { num_blocks: r.uint32(), bytes_per_block: r.uint32() } };
      return { delegation_type: 2, write: { stateid, recall, space_limit, permissions: nfsace4.read(r) } };
    }
    const ond_why = r.enumOf(WHY, 'why_no_delegation4');
    return { delegation_type: 3, od_whynone: ond_why === 1 || ond_why === 2 ? { ond_why, flag: r.bool() } : { ond_why } };
  },
  write: (w, v) => {
    w.uint32(v.delegation_type);
    if (v.delegation_type === 1) {
      stateid4.write(w, v.read.stateid);
      w.bool(v.read.recall);
      nfsace4.write(w, v.read.permissions);
    } else if (v.delegation_type === 2) {
      stateid4.write(w, v.write.stateid);
      w.bool(v.write.recall);
      const l = v.write.space_limit;
      w.uint32(l.limitby);
      if (l.limitby === 1) w.uhyper(l.filesize);
      else w.uint32(l.mod_blocks.num_blocks).uint32(l.mod_blocks.bytes_per_block);
      nfsace4.write(w, v.write.permissions);
    } else if (v.delegation_type === 3) {
      w.uint32(v.od_whynone.ond_why);
      if (v.od_whynone.ond_why === 1 || v.od_whynone.ond_why === 2) w.bool(v.od_whynone.flag === true);
    }
  },
};

/* struct OPEN4resok { stateid4 stateid; change_info4 cinfo; uint32_t rflags; bitmap4 attrset; open_delegation4 delegation; }; */
export interface OPEN4resok {
  stateid: stateid4;
  cinfo: change_info4;
  rflags: number;
  attrset: bitmap4;
  delegation: open_delegation4;
}

const OPEN = {
  args: {
    read: (r: XdrReader): OPEN4args => ({
      seqid: r.uint32('seqid'),
      share_access: r.uint32('share_access'),
      share_deny: r.uint32('share_deny'),
      owner: state_owner4.read(r),
      openhow: openflag4.read(r),
      claim: open_claim4.read(r),
    }),
    write: (w: XdrWriter, v: OPEN4args) => {
      w.uint32(v.seqid).uint32(v.share_access).uint32(v.share_deny);
      state_owner4.write(w, v.owner);
      openflag4.write(w, v.openhow);
      open_claim4.write(w, v.claim);
    },
  },
  res: ok<OPEN4resok>(
    {
      read: (r) => ({ stateid: stateid4.read(r), cinfo: change_info4.read(r), rflags: r.uint32('rflags'), attrset: readBitmap4(r), delegation: open_delegation4.read(r) }),
      write: (w, v) => {
        stateid4.write(w, v.stateid);
        change_info4.write(w, v.cinfo);
        w.uint32(v.rflags);
        writeBitmap4(w, v.attrset);
        open_delegation4.write(w, v.delegation);
      },
    },
    'OPEN4res',
  ),
};

/* struct LOCK4denied { offset4 offset; length4 length; nfs_lock_type4 locktype; lock_owner4 owner; }; */
export interface LOCK4denied {
  offset: bigint;
  length: bigint;
  locktype: number;
  owner: { clientid: bigint; owner: Buffer };
}

const LOCKTYPES: ReadonlySet<number> = new Set([1, 2, 3, 4]);

const LOCK4denied: XdrCodec<LOCK4denied> = {
  read: (r) => ({ offset: r.uhyperBig('offset4'), length: r.uhyperBig('length4'), locktype: r.enumOf(LOCKTYPES, 'nfs_lock_type4'), owner: state_owner4.read(r) }),
  write: (w, v) => {
    w.uhyper(v.offset).uhyper(v.length).uint32(v.locktype);
    state_owner4.write(w, v.owner);
  },
};

/** A result that also carries LOCK4denied for NFS4ERR_DENIED. */
export interface LockRes<T> extends Res<T> {
  denied?: LOCK4denied;
}

function lockRes<T>(body: XdrCodec<T>): XdrCodec<LockRes<T>> {
  const base = ok(body, 'LOCK4res');
  return {
    read: (r) => {
      const st = r.uint32('status') as nfsstat4;
      if (st === nfsstat4.NFS4ERR_DENIED) return { status: st, denied: LOCK4denied.read(r) };
      if (st !== nfsstat4.NFS4_OK) return { status: st };
      return { status: st, resok: body.read(r) };
    },
    write: (w, v) => {
      if (v.status === nfsstat4.NFS4ERR_DENIED) {
        if (!v.denied) throw new Error('NFS4ERR_DENIED without LOCK4denied');
        w.uint32(v.status);
        LOCK4denied.write(w, v.denied);
      } else base.write(w, v);
    },
  };
}

/*
 * struct open_to_lock_owner4 { seqid4 open_seqid; stateid4 open_stateid; seqid4 lock_seqid; lock_owner4 lock_owner; };
 * struct exist_lock_owner4 { stateid4 lock_stateid; seqid4 lock_seqid; };
 * union locker4 switch (bool new_lock_owner) { case TRUE: open_to_lock_owner4 open_owner; case FALSE: exist_lock_owner4 lock_owner; };
 * struct LOCK4args { nfs_lock_type4 locktype; bool reclaim; offset4 offset; length4 length; locker4 locker; };
 */
export type locker4 =
  | { new_lock_owner: true; open_owner: { open_seqid: number; open_stateid: stateid4; lock_seqid: number; lock_owner: state_owner4 } }
  | { new_lock_owner: false; lock_owner: { lock_stateid: stateid4; lock_seqid: number } };

export interface LOCK4args {
  locktype: number;
  reclaim: boolean;
  offset: bigint;
  length: bigint;
  locker: locker4;
}

const LOCK = {
  args: {
    read: (r: XdrReader): LOCK4args => {
      const locktype = r.enumOf(LOCKTYPES, 'nfs_lock_type4');
      const reclaim = r.bool('reclaim');
      const offset = r.uhyperBig('offset4');
      const length = r.uhyperBig('length4');
      const locker: locker4 = r.bool('new_lock_owner')
        ? { new_lock_owner: true, open_owner: { open_seqid: r.uint32(), open_stateid: stateid4.read(r), lock_seqid: r.uint32(), lock_owner: state_owner4.read(r) } }
        : { new_lock_owner: false, lock_owner: { lock_stateid: stateid4.read(r), lock_seqid: r.uint32() } };
      return { locktype, reclaim, offset, length, locker };
    },
    write: (w: XdrWriter, v: LOCK4args) => {
      w.uint32(v.locktype).bool(v.reclaim).uhyper(v.offset).uhyper(v.length).bool(v.locker.new_lock_owner);
      if (v.locker.new_lock_owner) {
        const o = v.locker.open_owner;
        w.uint32(o.open_seqid);
        stateid4.write(w, o.open_stateid);
        w.uint32(o.lock_seqid);
        state_owner4.write(w, o.lock_owner);
      } else {
        stateid4.write(w, v.locker.lock_owner.lock_stateid);
        w.uint32(v.locker.lock_owner.lock_seqid);
      }
    },
  },
  res: lockRes(stateid4),
};

/* struct LOCKT4args { nfs_lock_type4 locktype; offset4 offset; length4 length; lock_owner4 owner; }; */
export interface LOCKT4args {
  locktype: number;
  offset: bigint;
  length: bigint;
  owner: state_owner4;
}

/* struct LOCKU4args { nfs_lock_type4 locktype; seqid4 seqid; stateid4 lock_stateid; offset4 offset; length4 length; }; */
export interface LOCKU4args {
  locktype: number;
  seqid: number;
  lock_stateid: stateid4;
  offset: bigint;
  length: bigint;
}

/* struct READ4args { stateid4 stateid; offset4 offset; count4 count; };  struct READ4resok { bool eof; opaque data<>; }; */
export interface READ4args {
  stateid: stateid4;
  offset: number;
  count: number;
}
export interface READ4resok {
  eof: boolean;
  data: Buffer;
}

/* struct WRITE4args { stateid4 stateid; offset4 offset; stable_how4 stable; opaque data<>; };  struct WRITE4resok { count4 count; stable_how4 committed; verifier4 writeverf; }; */
export interface WRITE4args {
  stateid: stateid4;
  offset: number;
  stable: number;
  data: Buffer;
}
export interface WRITE4resok {
  count: number;
  committed: number;
  writeverf: Buffer;
}

const STABLE: ReadonlySet<number> = new Set([0, 1, 2]);

/* struct OPEN_DOWNGRADE4args { stateid4 open_stateid; seqid4 seqid; uint32_t share_access; uint32_t share_deny; }; */
export interface OPEN_DOWNGRADE4args {
  open_stateid: stateid4;
  seqid: number;
  share_access: number;
  share_deny: number;
}

/* struct SETATTR4args { stateid4 stateid; fattr4 obj_attributes; };  struct SETATTR4res { nfsstat4 status; bitmap4 attrsset; }; */
export interface SETATTR4args {
  stateid: stateid4;
  obj_attributes: Fattr4;
}
export interface SETATTR4res {
  status: nfsstat4;
  attrsset: bitmap4;
}

/* struct ACCESS4resok { uint32_t supported; uint32_t access; }; */
export interface ACCESS4resok {
  supported: number;
  access: number;
}

/* struct RENAME4resok { change_info4 source_cinfo; change_info4 target_cinfo; }; */
export interface RENAME4resok {
  source_cinfo: change_info4;
  target_cinfo: change_info4;
}

const cinfoRes = ok(change_info4, 'change_info4 result');

/** Argument and result types per operation, for typed handler tables. */
export interface Nfs4OpTypes {
  [OP.OP_ACCESS]: { args: number; res: Res<ACCESS4resok> };
  [OP.OP_CLOSE]: { args: { seqid: number; open_stateid: stateid4 }; res: Res<stateid4> };
  [OP.OP_COMMIT]: { args: { offset: number; count: number }; res: Res<Buffer> };
  [OP.OP_CREATE]: { args: CREATE4args; res: Res<CREATE4resok> };
  [OP.OP_DELEGRETURN]: { args: stateid4; res: Res<void> };
  [OP.OP_GETATTR]: { args: bitmap4; res: Res<Fattr4> };
  [OP.OP_GETFH]: { args: void; res: Res<Buffer> };
  [OP.OP_LINK]: { args: string; res: Res<change_info4> };
  [OP.OP_LOCK]: { args: LOCK4args; res: LockRes<stateid4> };
  [OP.OP_LOCKT]: { args: LOCKT4args; res: LockRes<void> };
  [OP.OP_LOCKU]: { args: LOCKU4args; res: Res<stateid4> };
  [OP.OP_LOOKUP]: { args: string; res: Res<void> };
  [OP.OP_LOOKUPP]: { args: void; res: Res<void> };
  [OP.OP_NVERIFY]: { args: Fattr4; res: Res<void> };
  [OP.OP_OPEN]: { args: OPEN4args; res: Res<OPEN4resok> };
  [OP.OP_OPEN_DOWNGRADE]: { args: OPEN_DOWNGRADE4args; res: Res<stateid4> };
  [OP.OP_PUTFH]: { args: Buffer; res: Res<void> };
  [OP.OP_PUTPUBFH]: { args: void; res: Res<void> };
  [OP.OP_PUTROOTFH]: { args: void; res: Res<void> };
  [OP.OP_READ]: { args: READ4args; res: Res<READ4resok> };
  [OP.OP_READDIR]: { args: READDIR4args; res: Res<READDIR4resok> };
  [OP.OP_READLINK]: { args: void; res: Res<string> };
  [OP.OP_REMOVE]: { args: string; res: Res<change_info4> };
  [OP.OP_RENAME]: { args: { oldname: string; newname: string }; res: Res<RENAME4resok> };
  [OP.OP_RESTOREFH]: { args: void; res: Res<void> };
  [OP.OP_SAVEFH]: { args: void; res: Res<void> };
  [OP.OP_SECINFO]: { args: string; res: Res<secinfo4[]> };
  [OP.OP_SETATTR]: { args: SETATTR4args; res: SETATTR4res };
  [OP.OP_VERIFY]: { args: Fattr4; res: Res<void> };
  [OP.OP_WRITE]: { args: WRITE4args; res: Res<WRITE4resok> };
  [OP.OP_BACKCHANNEL_CTL]: { args: BACKCHANNEL_CTL4args; res: Res<void> };
  [OP.OP_BIND_CONN_TO_SESSION]: { args: BIND_CONN_TO_SESSION4args; res: Res<BIND_CONN_TO_SESSION4resok> };
  [OP.OP_EXCHANGE_ID]: { args: EXCHANGE_ID4args; res: Res<EXCHANGE_ID4resok> };
  [OP.OP_CREATE_SESSION]: { args: CREATE_SESSION4args; res: Res<CREATE_SESSION4resok> };
  [OP.OP_DESTROY_SESSION]: { args: Buffer; res: Res<void> };
  [OP.OP_FREE_STATEID]: { args: stateid4; res: Res<void> };
  [OP.OP_SECINFO_NO_NAME]: { args: number; res: Res<secinfo4[]> };
  [OP.OP_SEQUENCE]: { args: SEQUENCE4args; res: Res<SEQUENCE4resok> };
  [OP.OP_TEST_STATEID]: { args: stateid4[]; res: Res<nfsstat4[]> };
  [OP.OP_DESTROY_CLIENTID]: { args: bigint; res: Res<void> };
  [OP.OP_RECLAIM_COMPLETE]: { args: boolean; res: Res<void> };
}

export type Nfs4Opnum = keyof Nfs4OpTypes;
export type OpArgs<K extends Nfs4Opnum> = Nfs4OpTypes[K]['args'];
export type OpRes<K extends Nfs4Opnum> = Nfs4OpTypes[K]['res'];

export interface OpCodec<A, R> {
  name: string;
  args: XdrCodec<A>;
  res: XdrCodec<R>;
}

const SECINFO_STYLES: ReadonlySet<number> = new Set([0, 1]);

/** Every implemented operation's codec, by operation number. */
export const OP_CODECS: { readonly [K in Nfs4Opnum]: OpCodec<OpArgs<K>, OpRes<K>> } = {
  [OP.OP_ACCESS]: { name: 'ACCESS', args: u32('access'), res: ok({ read: (r) => ({ supported: r.uint32(), access: r.uint32() }), write: (w, v) => void w.uint32(v.supported).uint32(v.access) }, 'ACCESS4res') },
  [OP.OP_CLOSE]: {
    name: 'CLOSE',
    args: { read: (r) => ({ seqid: r.uint32('seqid'), open_stateid: stateid4.read(r) }), write: (w, v) => stateid4.write(w.uint32(v.seqid), v.open_stateid) },
    res: stateidRes,
  },
  [OP.OP_COMMIT]: { name: 'COMMIT', args: { read: (r) => ({ offset: r.uhyperClamped('offset4'), count: r.uint32('count4') }), write: (w, v) => void w.uhyper(v.offset).uint32(v.count) }, res: ok(verifier4, 'COMMIT4res') },
  [OP.OP_CREATE]: {
    name: 'CREATE',
    args: {
      read: (r) => ({ objtype: createtype4.read(r), objname: component4.read(r), createattrs: readFattr4(r) }),
      write: (w, v) => {
        createtype4.write(w, v.objtype);
        component4.write(w, v.objname);
        writeFattr4(w, v.createattrs);
      },
    },
    res: ok(cinfoAttrset, 'CREATE4res'),
  },
  [OP.OP_DELEGRETURN]: { name: 'DELEGRETURN', args: stateid4, res: status },
  [OP.OP_GETATTR]: { name: 'GETATTR', args: bitmap, res: ok(fattr4, 'GETATTR4res') },
  [OP.OP_GETFH]: { name: 'GETFH', args: VOID, res: ok(nfs_fh4, 'GETFH4res') },
  [OP.OP_LINK]: { name: 'LINK', args: component4, res: cinfoRes },
  [OP.OP_LOCK]: { name: 'LOCK', args: LOCK.args, res: LOCK.res },
  [OP.OP_LOCKT]: {
    name: 'LOCKT',
    args: {
      read: (r) => ({ locktype: r.enumOf(LOCKTYPES, 'nfs_lock_type4'), offset: r.uhyperBig('offset4'), length: r.uhyperBig('length4'), owner: state_owner4.read(r) }),
      write: (w, v) => state_owner4.write(w.uint32(v.locktype).uhyper(v.offset).uhyper(v.length), v.owner),
    },
    res: lockRes(VOID),
  },
  [OP.OP_LOCKU]: {
    name: 'LOCKU',
    args: {
      read: (r) => ({ locktype: r.enumOf(LOCKTYPES, 'nfs_lock_type4'), seqid: r.uint32('seqid'), lock_stateid: stateid4.read(r), offset: r.uhyperBig('offset4'), length: r.uhyperBig('length4') }),
      write: (w, v) => {
        stateid4.write(w.uint32(v.locktype).uint32(v.seqid), v.lock_stateid);
        w.uhyper(v.offset).uhyper(v.length);
      },
    },
    res: stateidRes,
  },
  [OP.OP_LOOKUP]: { name: 'LOOKUP', args: component4, res: status },
  [OP.OP_LOOKUPP]: { name: 'LOOKUPP', args: VOID, res: status },
  [OP.OP_NVERIFY]: { name: 'NVERIFY', args: fattr4, res: status },
  [OP.OP_OPEN]: { name: 'OPEN', args: OPEN.args, res: OPEN.res },
  [OP.OP_OPEN_DOWNGRADE]: {
    name: 'OPEN_DOWNGRADE',
    args: {
      read: (r) => ({ open_stateid: stateid4.read(r), seqid: r.uint32('seqid'), share_access: r.uint32('share_access'), share_deny: r.uint32('share_deny') }),
      write: (w, v) => {
        stateid4.write(w, v.open_stateid);
        w.uint32(v.seqid).uint32(v.share_access).uint32(v.share_deny);
      },
    },
    res: stateidRes,
  },
  [OP.OP_PUTFH]: { name: 'PUTFH', args: nfs_fh4, res: status },
  [OP.OP_PUTPUBFH]: { name: 'PUTPUBFH', args: VOID, res: status },
  [OP.OP_PUTROOTFH]: { name: 'PUTROOTFH', args: VOID, res: status },
  [OP.OP_READ]: {
    name: 'READ',
    args: { read: (r) => ({ stateid: stateid4.read(r), offset: r.uhyperClamped('offset4'), count: r.uint32('count4') }), write: (w, v) => {
        stateid4.write(w, v.stateid);
        w.uhyper(v.offset).uint32(v.count);
      },
    },
    res: ok({ read: (r) => ({ eof: r.bool('eof'), data: r.varOpaque(0xffffffff, 'data') }), write: (w, v) => void w.bool(v.eof).varOpaque(v.data) }, 'READ4res'),
  },
  [OP.OP_READDIR]: { name: 'READDIR', args: READDIR.args, res: READDIR.res },
  [OP.OP_READLINK]: { name: 'READLINK', args: VOID, res: ok(linktext4, 'READLINK4res') },
  [OP.OP_REMOVE]: { name: 'REMOVE', args: component4, res: cinfoRes },
  [OP.OP_RENAME]: {
    name: 'RENAME',
    args: { read: (r) => ({ oldname: component4.read(r), newname: component4.read(r) }), write: (w, v) => void w.string(v.oldname).string(v.newname) },
    res: ok({ read: (r) => ({ source_cinfo: change_info4.read(r), target_cinfo: change_info4.read(r) }), write: (w, v) => {
          change_info4.write(w, v.source_cinfo);
          change_info4.write(w, v.target_cinfo);
        },
      },
      'RENAME4res',
    ),
  },
  [OP.OP_RESTOREFH]: { name: 'RESTOREFH', args: VOID, res: status },
  [OP.OP_SAVEFH]: { name: 'SAVEFH', args: VOID, res: status },
  [OP.OP_SECINFO]: { name: 'SECINFO', args: component4, res: secinfoRes },
  [OP.OP_SETATTR]: {
    name: 'SETATTR',
    args: { read: (r) => ({ stateid: stateid4.read(r), obj_attributes: readFattr4(r) }), write: (w, v) => {
        stateid4.write(w, v.stateid);
        writeFattr4(w, v.obj_attributes);
      },
    },
    res: { read: (r) => ({ status: r.uint32('status') as nfsstat4, attrsset: readBitmap4(r) }), write: (w, v) => writeBitmap4(w.uint32(v.status), v.attrsset) },
  },
  [OP.OP_VERIFY]: { name: 'VERIFY', args: fattr4, res: status },
  [OP.OP_WRITE]: {
    name: 'WRITE',
    args: {
      read: (r) => ({ stateid: stateid4.read(r), offset: r.uhyperClamped('offset4'), stable: r.enumOf(STABLE, 'stable_how4'), data: r.varOpaque(0xffffffff, 'data') }),
      write: (w, v) => {
        stateid4.write(w, v.stateid);
        w.uhyper(v.offset).uint32(v.stable).varOpaque(v.data);
      },
    },
    res: ok({ read: (r) => ({ count: r.uint32(), committed: r.enumOf(STABLE, 'stable_how4'), writeverf: verifier4.read(r) }), write: (w, v) => verifier4.write(w.uint32(v.count).uint32(v.committed), v.writeverf) }, 'WRITE4res'),
  },
  [OP.OP_BACKCHANNEL_CTL]: { name: 'BACKCHANNEL_CTL', ...BACKCHANNEL_CTL },
  [OP.OP_BIND_CONN_TO_SESSION]: { name: 'BIND_CONN_TO_SESSION', ...BIND_CONN_TO_SESSION },
  [OP.OP_EXCHANGE_ID]: { name: 'EXCHANGE_ID', ...EXCHANGE_ID },
  [OP.OP_CREATE_SESSION]: { name: 'CREATE_SESSION', ...CREATE_SESSION },
  [OP.OP_DESTROY_SESSION]: { name: 'DESTROY_SESSION', args: sessionid4, res: status },
  [OP.OP_FREE_STATEID]: { name: 'FREE_STATEID', args: stateid4, res: status },
  [OP.OP_SECINFO_NO_NAME]: { name: 'SECINFO_NO_NAME', args: { read: (r) => r.enumOf(SECINFO_STYLES, 'secinfo_style4'), write: (w, v) => void w.uint32(v) }, res: secinfoRes },
  [OP.OP_SEQUENCE]: { name: 'SEQUENCE', ...SEQUENCE },
  [OP.OP_TEST_STATEID]: {
    name: 'TEST_STATEID',
    args: arrayOf(stateid4, 1024, 'ts_stateids'),
    res: ok(arrayOf<nfsstat4>({ read: (r) => r.uint32('nfsstat4') as nfsstat4, write: (w, v) => void w.uint32(v) }, 1024, 'tsr_status_codes'), 'TEST_STATEID4res'),
  },
  [OP.OP_DESTROY_CLIENTID]: { name: 'DESTROY_CLIENTID', args: clientid4, res: status },
  [OP.OP_RECLAIM_COMPLETE]: { name: 'RECLAIM_COMPLETE', args: { read: (r) => r.bool('rca_one_fs'), write: (w, v) => void w.bool(v) }, res: status },
};

/** Names of every operation number, for messages and stats (implemented or not). */
export function opName(op: number): string {
  return OP[op]?.replace(/^OP_/, '') ?? `op${op}`;
}


