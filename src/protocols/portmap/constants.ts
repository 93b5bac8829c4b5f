/*
 * Port mapper version 2 and rpcbind versions 3 and 4 (RFC 1833), with the RFC's names.
 */

/** program PMAP_PROG / RPCBPROG = 100000 */
export const PMAP_PROG = 100000;
export const PMAP_VERS = 2;
export const RPCBVERS = 3;
export const RPCBVERS4 = 4;
/** const PMAP_PORT = 111; -- portmapper port number */
export const PMAP_PORT = 111;

/** const IPPROTO_TCP = 6; const IPPROTO_UDP = 17; */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/*
 * program PMAP_PROG { version PMAP_VERS {
 *    void         PMAPPROC_NULL(void)         = 0;
 *    bool         PMAPPROC_SET(mapping)       = 1;
 *    bool         PMAPPROC_UNSET(mapping)     = 2;
 *    unsigned int PMAPPROC_GETPORT(mapping)   = 3;
 *    pmaplist     PMAPPROC_DUMP(void)         = 4;
 *    call_result  PMAPPROC_CALLIT(call_args)  = 5;
 * } = 2; } = 100000;
 */
export const enum PmapProc {
  PMAPPROC_NULL = 0,
  PMAPPROC_SET = 1,
  PMAPPROC_UNSET = 2,
  PMAPPROC_GETPORT = 3,
  PMAPPROC_DUMP = 4,
  PMAPPROC_CALLIT = 5,
}

/*
 * program RPCBPROG {
 *   version RPCBVERS {                                   version RPCBVERS4 { ... the same, and
 *     bool RPCBPROC_SET(rpcb) = 1;                          rpcb_rmtcallres RPCBPROC_BCAST(rpcb_rmtcallargs) = RPCBPROC_CALLIT;
 *     bool RPCBPROC_UNSET(rpcb) = 2;                        string RPCBPROC_GETVERSADDR(rpcb) = 9;
 *     string RPCBPROC_GETADDR(rpcb) = 3;                    rpcb_rmtcallres RPCBPROC_INDIRECT(rpcb_rmtcallargs) = 10;
 *     rpcblist_ptr RPCBPROC_DUMP(void) = 4;                 rpcb_entry_list_ptr RPCBPROC_GETADDRLIST(rpcb) = 11;
 *     rpcb_rmtcallres RPCBPROC_CALLIT(rpcb_rmtcallargs) = 5; rpcb_stat_byvers RPCBPROC_GETSTAT(void) = 12;
 *     unsigned int RPCBPROC_GETTIME(void) = 6;            } = 4;
 *     netbuf RPCBPROC_UADDR2TADDR(string) = 7;
 *     string RPCBPROC_TADDR2UADDR(struct netbuf) = 8;
 *   } = 3;
 * } = 100000;
 */
export const enum RpcbProc {
  RPCBPROC_NULL = 0,
  RPCBPROC_SET = 1,
  RPCBPROC_UNSET = 2,
  RPCBPROC_GETADDR = 3,
  RPCBPROC_DUMP = 4,
  RPCBPROC_CALLIT = 5,
  RPCBPROC_GETTIME = 6,
  RPCBPROC_UADDR2TADDR = 7,
  RPCBPROC_TADDR2UADDR = 8,
  RPCBPROC_GETVERSADDR = 9,
  RPCBPROC_INDIRECT = 10,
  RPCBPROC_GETADDRLIST = 11,
  RPCBPROC_GETSTAT = 12,
}

/** Where rpcbind listens for local registrations (libtirpc's _PATH_RPCBINDSOCK). */
export const RPCBIND_SOCKET = '/run/rpcbind.sock';
