/**
 * NFSv4.1 basic data types (RFC 8881 section 3, XDR from RFC 5662) shared by the operations.
 * Decoded opaques (handles, WRITE data, owners) are views into the request buffer, valid while it is.
 */

import { isUtf8 } from 'node:buffer';
import type { XdrReader, XdrWriter } from '../xdr/xdr';
import { NFS4_FHSIZE, NFS4_OPAQUE_LIMIT, NFS4_OTHER_SIZE, NFS4_SESSIONID_SIZE, NFS4_VERIFIER_SIZE, Nfs4DecodeError, nfsstat4, RPCSEC_GSS } from './constants';
import { type nfstime4, readNfstime4, writeNfstime4 } from './fattr4.codec';

/** One XDR type: how to read it and how to write it. */
export interface XdrCodec<T> {
  read(r: XdrReader): T;
  write(w: XdrWriter, v: T): void;
}

/* typedef opaque nfs_fh4<NFS4_FHSIZE>; */
export const nfs_fh4: XdrCodec<Buffer> = { read: (r) => r.varOpaque(NFS4_FHSIZE, 'nfs_fh4'), write: (w, v) => void w.varOpaque(v) };

/* typedef opaque verifier4[NFS4_VERIFIER_SIZE]; */
export const verifier4: XdrCodec<Buffer> = { read: (r) => r.fixedOpaque(NFS4_VERIFIER_SIZE, 'verifier4'), write: (w, v) => void w.fixedOpaque(v) };

/* typedef opaque sessionid4[NFS4_SESSIONID_SIZE]; */
export const sessionid4: XdrCodec<Buffer> = { read: (r) => r.fixedOpaque(NFS4_SESSIONID_SIZE, 'sessionid4'), write: (w, v) => void w.fixedOpaque(v) };

/* typedef uint64_t clientid4; */
export const clientid4: XdrCodec<bigint> = { read: (r) => r.uhyperBig('clientid4'), write: (w, v) => void w.uhyper(v) };

/* typedef utf8str_cs component4; (a name that is not UTF-8 is NFS4ERR_INVAL; length and '.'/'..' are the server's checks) */
export const component4: XdrCodec<string> = {
  read: (r) => {
    const raw = r.varOpaque(0xffffffff, 'component4');
    if (!isUtf8(raw)) throw new Nfs4DecodeError(nfsstat4.NFS4ERR_INVAL, 'component4 is not UTF-8');
    return raw.toString('utf8');
  },
  write: (w, v) => void w.string(v),
};

/* typedef utf8str_cs linktext4; */
export const linktext4: XdrCodec<string> = component4;

/* struct stateid4 { uint32_t seqid; opaque other[NFS4_OTHER_SIZE]; }; */
export interface stateid4 {
  seqid: number;
  other: Buffer;
}

export const stateid4: XdrCodec<stateid4> = {
  read: (r) => ({ seqid: r.uint32('stateid4.seqid'), other: r.fixedOpaque(NFS4_OTHER_SIZE, 'stateid4.other') }),
  write: (w, v) => void w.uint32(v.seqid).fixedOpaque(v.other),
};

/* struct change_info4 { bool atomic; changeid4 before; changeid4 after; }; */
export interface change_info4 {
  atomic: boolean;
  before: bigint;
  after: bigint;
}

export const change_info4: XdrCodec<change_info4> = {
  read: (r) => ({ atomic: r.bool('change_info4.atomic'), before: r.uhyperBig('change_info4.before'), after: r.uhyperBig('change_info4.after') }),
  write: (w, v) => void w.bool(v.atomic).uhyper(v.before).uhyper(v.after),
};

/* struct state_owner4 { clientid4 clientid; opaque owner<NFS4_OPAQUE_LIMIT>; }; typedef state_owner4 open_owner4; typedef state_owner4 lock_owner4; */
export interface state_owner4 {
  clientid: bigint;
  owner: Buffer;
}

export const state_owner4: XdrCodec<state_owner4> = {
  read: (r) => ({ clientid: r.uhyperBig('state_owner4.clientid'), owner: r.varOpaque(NFS4_OPAQUE_LIMIT, 'state_owner4.owner') }),
  write: (w, v) => void w.uhyper(v.clientid).varOpaque(v.owner),
};

/* struct nfs_impl_id4 { utf8str_cis nii_domain; utf8str_cs nii_name; nfstime4 nii_date; }; */
export interface nfs_impl_id4 {
  nii_domain: Buffer;
  nii_name: Buffer;
  nii_date: nfstime4;
}

export const nfs_impl_id4: XdrCodec<nfs_impl_id4> = {
  read: (r) => ({ nii_domain: r.varOpaque(NFS4_OPAQUE_LIMIT, 'nii_domain'), nii_name: r.varOpaque(NFS4_OPAQUE_LIMIT, 'nii_name'), nii_date: readNfstime4(r, 'nii_date') }),
  write: (w, v) => {
    w.varOpaque(v.nii_domain).varOpaque(v.nii_name);
    writeNfstime4(w, v.nii_date);
  },
};

/*
 * struct channel_attrs4 {
 *   count4 ca_headerpadsize; count4 ca_maxrequestsize; count4 ca_maxresponsesize; count4 ca_maxresponsesize_cached;
 *   count4 ca_maxoperations; count4 ca_maxrequests; uint32_t ca_rdma_ird<1>;
 * };
 */
export interface channel_attrs4 {
  ca_headerpadsize: number;
  ca_maxrequestsize: number;
  ca_maxresponsesize: number;
  ca_maxresponsesize_cached: number;
  ca_maxoperations: number;
  ca_maxrequests: number;
  ca_rdma_ird: number[];
}

export const channel_attrs4: XdrCodec<channel_attrs4> = {
  read: (r) => ({
    ca_headerpadsize: r.uint32('ca_headerpadsize'),
    ca_maxrequestsize: r.uint32('ca_maxrequestsize'),
    ca_maxresponsesize: r.uint32('ca_maxresponsesize'),
    ca_maxresponsesize_cached: r.uint32('ca_maxresponsesize_cached'),
    ca_maxoperations: r.uint32('ca_maxoperations'),
    ca_maxrequests: r.uint32('ca_maxrequests'),
    ca_rdma_ird: r.array((x) => x.uint32('ca_rdma_ird'), 1, 'ca_rdma_ird'),
  }),
  write: (w, v) => {
    w.uint32(v.ca_headerpadsize).uint32(v.ca_maxrequestsize).uint32(v.ca_maxresponsesize).uint32(v.ca_maxresponsesize_cached);
    w.uint32(v.ca_maxoperations).uint32(v.ca_maxrequests).array(v.ca_rdma_ird, (x, n) => x.uint32(n));
  },
};

/* struct authsys_parms { unsigned int stamp; string machinename<255>; unsigned int uid; unsigned int gid; unsigned int gids<16>; }; */
export interface authsys_parms {
  stamp: number;
  machinename: string;
  uid: number;
  gid: number;
  gids: number[];
}

/*
 * enum rpc_gss_svc_t { RPC_GSS_SVC_NONE = 1, RPC_GSS_SVC_INTEGRITY = 2, RPC_GSS_SVC_PRIVACY = 3 };
 * struct gss_cb_handles4 { rpc_gss_svc_t gcbp_service; gsshandle4_t gcbp_handle_from_server; gsshandle4_t gcbp_handle_from_client; };
 * union callback_sec_parms4 switch (uint32_t cb_secflavor) { case AUTH_NONE: void; case AUTH_SYS: authsys_parms cbsp_sys_cred; case RPCSEC_GSS: gss_cb_handles4 cbsp_gss_handles; };
 */
export type callback_sec_parms4 =
  | { cb_secflavor: 0 }
  | { cb_secflavor: 1; cbsp_sys_cred: authsys_parms }
  | { cb_secflavor: typeof RPCSEC_GSS; cbsp_gss_handles: { gcbp_service: number; gcbp_handle_from_server: Buffer; gcbp_handle_from_client: Buffer } };

const GSS_SERVICES: ReadonlySet<number> = new Set([1, 2, 3]);

export const callback_sec_parms4: XdrCodec<callback_sec_parms4> = {
  read: (r) => {
    const flavor = r.uint32('cb_secflavor');
    if (flavor === 0) return { cb_secflavor: 0 };
    if (flavor === 1) {
      return {
        cb_secflavor: 1,
        cbsp_sys_cred: { stamp: r.uint32('stamp'), machinename: r.string(255, 'machinename'), uid: r.uint32('uid'), gid: r.uint32('gid'), gids: r.array((x) => x.uint32('gid'), 16, 'gids') },
      };
    }
    if (flavor === RPCSEC_GSS) {
      return {
        cb_secflavor: RPCSEC_GSS,
        cbsp_gss_handles: { gcbp_service: r.enumOf(GSS_SERVICES, 'rpc_gss_svc_t'), gcbp_handle_from_server: r.varOpaque(0xffffffff, 'gsshandle4_t'), gcbp_handle_from_client: r.varOpaque(0xffffffff, 'gsshandle4_t') },
      };
    }
    throw new Nfs4DecodeError(nfsstat4.NFS4ERR_INVAL, `callback security flavor ${flavor} is not one callback_sec_parms4 names`);
  },
  write: (w, v) => {
    w.uint32(v.cb_secflavor);
    if (v.cb_secflavor === 1) {
      const c = v.cbsp_sys_cred;
      w.uint32(c.stamp).string(c.machinename).uint32(c.uid).uint32(c.gid).array(c.gids, (x, g) => x.uint32(g));
    } else if (v.cb_secflavor === RPCSEC_GSS) {
      const g = v.cbsp_gss_handles;
      w.uint32(g.gcbp_service).varOpaque(g.gcbp_handle_from_server).varOpaque(g.gcbp_handle_from_client);
    }
  },
};

/* struct state_protect_ops4 { bitmap4 spo_must_enforce; bitmap4 spo_must_allow; }; */
export interface state_protect_ops4 {
  spo_must_enforce: number[];
  spo_must_allow: number[];
}

/** Codecs made from readers and writers of the fields, for small structs. */
export function struct<T>(read: (r: XdrReader) => T, write: (w: XdrWriter, v: T) => void): XdrCodec<T> {
  return { read, write };
}

/** T<max> */
export function arrayOf<T>(item: XdrCodec<T>, max: number, what: string): XdrCodec<T[]> {
  return { read: (r) => r.array((x) => item.read(x), max, what), write: (w, v) => void w.array(v, (x, i) => item.write(x, i)) };
}
