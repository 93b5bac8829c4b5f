/** One argument and one result value per implemented NFSv4.1 operation, for the codec specs. */

import { nfs_opnum4 as OP, nfsstat4 } from '../constants';
import type { Fattr4 } from '../fattr4.codec';
import type { Nfs4Opnum, OpArgs, OpRes } from '../ops.codec';

const sid = (n: number) => ({ seqid: n, other: Buffer.alloc(12, n) });
const verf = (n: number) => Buffer.alloc(8, n);
const chan = { ca_headerpadsize: 0, ca_maxrequestsize: 1049600, ca_maxresponsesize: 1049600, ca_maxresponsesize_cached: 4096, ca_maxoperations: 8, ca_maxrequests: 16, ca_rdma_ird: [7] };
const cinfo = { atomic: true, before: 10n, after: 11n };
export const SAMPLE_ATTRS: Fattr4 = {
  type: 1,
  change: 0x0102030405060708n,
  size: 5000,
  fsid: { major: 3, minor: 0 },
  filehandle: Buffer.alloc(40, 7),
  fileid: 42,
  mode: 0o644,
  owner: '1000',
  owner_group: '100',
  time_modify: { seconds: 1_700_000_000, nseconds: 5 },
  time_modify_set: { set_it: 1, time: { seconds: 1, nseconds: 2 } },
  time_access_set: { set_it: 0 },
  supported_attrs: [0xffffffff, 0x1],
};

type Samples = { [K in Nfs4Opnum]: { args: OpArgs<K>; res: OpRes<K> } };

export const OP_SAMPLES: Samples = {
  [OP.OP_ACCESS]: { args: 0x3f, res: { status: nfsstat4.NFS4_OK, resok: { supported: 0x3f, access: 0x03 } } },
  [OP.OP_CLOSE]: { args: { seqid: 0, open_stateid: sid(1) }, res: { status: nfsstat4.NFS4_OK, resok: sid(2) } },
  [OP.OP_COMMIT]: { args: { offset: 4096, count: 0 }, res: { status: nfsstat4.NFS4_OK, resok: verf(9) } },
  [OP.OP_CREATE]: { args: { objtype: { type: 5, linkdata: 'target' }, objname: 'link', createattrs: { mode: 0o777 } }, res: { status: nfsstat4.NFS4_OK, resok: { cinfo, attrset: [0, 2] } } },
  [OP.OP_DELEGRETURN]: { args: sid(3), res: { status: nfsstat4.NFS4ERR_BAD_STATEID } },
  [OP.OP_GETATTR]: { args: [0x0000001a, 0x00b0a23a], res: { status: nfsstat4.NFS4_OK, resok: SAMPLE_ATTRS } },
  [OP.OP_GETFH]: { args: undefined, res: { status: nfsstat4.NFS4_OK, resok: Buffer.alloc(40, 1) } },
  [OP.OP_LINK]: { args: 'hard', res: { status: nfsstat4.NFS4_OK, resok: cinfo } },
  [OP.OP_LOCK]: {
    args: { locktype: 2, reclaim: false, offset: 0n, length: 0xffffffffffffffffn, locker: { new_lock_owner: true, open_owner: { open_seqid: 0, open_stateid: sid(4), lock_seqid: 0, lock_owner: { clientid: 77n, owner: Buffer.from('lo') } } } },
    res: { status: nfsstat4.NFS4ERR_DENIED, denied: { offset: 10n, length: 5n, locktype: 1, owner: { clientid: 78n, owner: Buffer.from('other') } } },
  },
  [OP.OP_LOCKT]: { args: { locktype: 1, offset: 100n, length: 1n, owner: { clientid: 1n, owner: Buffer.from('x') } }, res: { status: nfsstat4.NFS4_OK } },
  [OP.OP_LOCKU]: { args: { locktype: 2, seqid: 0, lock_stateid: sid(5), offset: 0n, length: 10n }, res: { status: nfsstat4.NFS4_OK, resok: sid(6) } },
  [OP.OP_LOOKUP]: { args: 'docs', res: { status: nfsstat4.NFS4ERR_NOENT } },
  [OP.OP_LOOKUPP]: { args: undefined, res: { status: nfsstat4.NFS4_OK } },
  [OP.OP_NVERIFY]: { args: { size: 1 }, res: { status: nfsstat4.NFS4ERR_SAME } },
  [OP.OP_OPEN]: {
    args: {
      seqid: 0,
      share_access: 3,
      share_deny: 0,
      owner: { clientid: 5n, owner: Buffer.from('open-owner') },
      openhow: { opentype: 1, how: { mode: 3, ch_createboth: { cva_verf: verf(1), cva_attrs: { mode: 0o600 } } } },
      claim: { claim: 0, file: 'new.txt' },
    },
    res: { status: nfsstat4.NFS4_OK, resok: { stateid: sid(7), cinfo, rflags: 4, attrset: [0, 2], delegation: { delegation_type: 3, od_whynone: { ond_why: 2, flag: false } } } },
  },
  [OP.OP_OPEN_DOWNGRADE]: { args: { open_stateid: sid(8), seqid: 0, share_access: 1, share_deny: 0 }, res: { status: nfsstat4.NFS4_OK, resok: sid(9) } },
  [OP.OP_PUTFH]: { args: Buffer.alloc(40, 2), res: { status: nfsstat4.NFS4_OK } },
  [OP.OP_PUTPUBFH]: { args: undefined, res: { status: nfsstat4.NFS4_OK } },
  [OP.OP_PUTROOTFH]: { args: undefined, res: { status: nfsstat4.NFS4_OK } },
  [OP.OP_READ]: { args: { stateid: sid(10), offset: 8192, count: 4096 }, res: { status: nfsstat4.NFS4_OK, resok: { eof: true, data: Buffer.from('hello') } } },
  [OP.OP_READDIR]: {
    args: { cookie: 0, cookieverf: verf(0), dircount: 4096, maxcount: 8192, attr_request: [0x2, 0x10] },
    res: { status: nfsstat4.NFS4_OK, resok: { cookieverf: verf(3), reply: { entries: [{ cookie: 3, name: 'a', attrs: { type: 1 } }, { cookie: 4, name: 'bb', attrs: {} }], eof: true } } },
  },
  [OP.OP_READLINK]: { args: undefined, res: { status: nfsstat4.NFS4_OK, resok: '../x' } },
  [OP.OP_REMOVE]: { args: 'gone', res: { status: nfsstat4.NFS4_OK, resok: cinfo } },
  [OP.OP_RENAME]: { args: { oldname: 'a', newname: 'b' }, res: { status: nfsstat4.NFS4_OK, resok: { source_cinfo: cinfo, target_cinfo: { atomic: false, before: 1n, after: 2n } } } },
  [OP.OP_RESTOREFH]: { args: undefined, res: { status: nfsstat4.NFS4ERR_NOFILEHANDLE } },
  [OP.OP_SAVEFH]: { args: undefined, res: { status: nfsstat4.NFS4_OK } },
  [OP.OP_SECINFO]: { args: 'share', res: { status: nfsstat4.NFS4_OK, resok: [{ flavor: 1 }, { flavor: 6, flavor_info: { oid: Buffer.from('2a864886f712010202', 'hex'), qop: 0, service: 1 } }] } },
  [OP.OP_SETATTR]: { args: { stateid: sid(0), obj_attributes: { size: 0, mode: 0o640 } }, res: { status: nfsstat4.NFS4ERR_PERM, attrsset: [] } },
  [OP.OP_VERIFY]: { args: { type: 2 }, res: { status: nfsstat4.NFS4ERR_NOT_SAME } },
  [OP.OP_WRITE]: { args: { stateid: sid(11), offset: 3, stable: 0, data: Buffer.from('abcde') }, res: { status: nfsstat4.NFS4_OK, resok: { count: 5, committed: 0, writeverf: verf(5) } } },
  [OP.OP_BACKCHANNEL_CTL]: { args: { bca_cb_program: 0x40000000, bca_sec_parms: [{ cb_secflavor: 0 }, { cb_secflavor: 1, cbsp_sys_cred: { stamp: 1, machinename: 'ws', uid: 0, gid: 0, gids: [1, 2] } }] }, res: { status: nfsstat4.NFS4_OK } },
  [OP.OP_BIND_CONN_TO_SESSION]: { args: { bctsa_sessid: Buffer.alloc(16, 4), bctsa_dir: 3, bctsa_use_conn_in_rdma_mode: false }, res: { status: nfsstat4.NFS4_OK, resok: { bctsr_sessid: Buffer.alloc(16, 4), bctsr_dir: 3, bctsr_use_conn_in_rdma_mode: false } } },
  [OP.OP_EXCHANGE_ID]: {
    args: { eia_clientowner: { co_verifier: verf(1), co_ownerid: Buffer.from('linux client') }, eia_flags: 0x101, eia_state_protect: { spa_how: 1, spa_mach_ops: { spo_must_enforce: [0x1], spo_must_allow: [] } }, eia_client_impl_id: [{ nii_domain: Buffer.from('kernel.org'), nii_name: Buffer.from('Linux'), nii_date: { seconds: 0, nseconds: 0 } }] },
    res: { status: nfsstat4.NFS4_OK, resok: { eir_clientid: 0x100000001n, eir_sequenceid: 1, eir_flags: 0x10000, eir_state_protect: { spr_how: 0 }, eir_server_owner: { so_minor_id: 0n, so_major_id: Buffer.from('strata') }, eir_server_scope: Buffer.from('strata'), eir_server_impl_id: [] } },
  },
  [OP.OP_CREATE_SESSION]: {
    args: { csa_clientid: 0x100000001n, csa_sequence: 1, csa_flags: 2, csa_fore_chan_attrs: chan, csa_back_chan_attrs: { ...chan, ca_rdma_ird: [] }, csa_cb_program: 0x40000000, csa_sec_parms: [{ cb_secflavor: 6, cbsp_gss_handles: { gcbp_service: 1, gcbp_handle_from_server: Buffer.from('s'), gcbp_handle_from_client: Buffer.from('c') } }] },
    res: { status: nfsstat4.NFS4_OK, resok: { csr_sessionid: Buffer.alloc(16, 9), csr_sequence: 1, csr_flags: 0, csr_fore_chan_attrs: { ...chan, ca_rdma_ird: [] }, csr_back_chan_attrs: { ...chan, ca_rdma_ird: [] } } },
  },
  [OP.OP_DESTROY_SESSION]: { args: Buffer.alloc(16, 3), res: { status: nfsstat4.NFS4ERR_BADSESSION } },
  [OP.OP_FREE_STATEID]: { args: sid(12), res: { status: nfsstat4.NFS4ERR_LOCKS_HELD } },
  [OP.OP_SECINFO_NO_NAME]: { args: 0, res: { status: nfsstat4.NFS4_OK, resok: [{ flavor: 1 }, { flavor: 0 }] } },
  [OP.OP_SEQUENCE]: {
    args: { sa_sessionid: Buffer.alloc(16, 1), sa_sequenceid: 7, sa_slotid: 0, sa_highest_slotid: 3, sa_cachethis: true },
    res: { status: nfsstat4.NFS4_OK, resok: { sr_sessionid: Buffer.alloc(16, 1), sr_sequenceid: 7, sr_slotid: 0, sr_highest_slotid: 15, sr_target_highest_slotid: 15, sr_status_flags: 0 } },
  },
  [OP.OP_TEST_STATEID]: { args: [sid(1), sid(2)], res: { status: nfsstat4.NFS4_OK, resok: [nfsstat4.NFS4_OK, nfsstat4.NFS4ERR_BAD_STATEID] } },
  [OP.OP_DESTROY_CLIENTID]: { args: 0x100000001n, res: { status: nfsstat4.NFS4ERR_CLIENTID_BUSY } },
  [OP.OP_RECLAIM_COMPLETE]: { args: false, res: { status: nfsstat4.NFS4_OK } },
};
