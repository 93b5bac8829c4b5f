import { type Mapping, fromUniversalAddress, netidOfProt, protOfNetid, type Rpcb, toUniversalAddress } from '../../protocols/portmap/codec';

/**
 * The port mapper's table: (program, version, netid) → universal address,
 * as rpcbind keeps it. Version 2 sees the tcp and udp entries as
 * (prog, vers, prot) → port.
 */
export class PortmapRegistry {
  private readonly entries: Rpcb[] = [];

  /** Register; false when (prog, vers, netid) is already registered (RFC 1833: SET refuses an existing mapping). */
  set(e: Rpcb): boolean {
    if (e.r_netid === '' || !fromUniversalAddress(e.r_addr)) return false;
    if (this.entries.some((x) => x.r_prog === e.r_prog && x.r_vers === e.r_vers && x.r_netid === e.r_netid)) return false;
    this.entries.push({ ...e });
    return true;
  }

  /** Unregister (prog, vers) on one netid, or on all when netid is empty; true when something was removed. */
  unset(prog: number, vers: number, netid = ''): boolean {
    let removed = false;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const x = this.entries[i];
      if (x.r_prog === prog && x.r_vers === vers && (netid === '' || x.r_netid === netid)) {
        this.entries.splice(i, 1);
        removed = true;
      }
    }
    return removed;
  }

  /**
   * The entry for (prog, vers, netid). Unless `exact`, another version of
   * the program on that netid stands in, as rpcbind does: the client then
   * learns the supported range from the service's PROG_MISMATCH.
   */
  lookup(prog: number, vers: number, netid: string, exact = false): Rpcb | undefined {
    let other: Rpcb | undefined;
    for (const x of this.entries) {
      if (x.r_prog !== prog || x.r_netid !== netid) continue;
      if (x.r_vers === vers) return x;
      other ??= x;
    }
    return exact ? undefined : other;
  }

  /* Version 2 views. */

  setMapping(m: Mapping, owner = 'unknown'): boolean {
    const netid = netidOfProt(m.prot);
    if (!netid || m.port > 65535) return false;
    return this.set({ r_prog: m.prog, r_vers: m.vers, r_netid: netid, r_addr: toUniversalAddress('0.0.0.0', m.port), r_owner: owner });
  }

  /** PMAPPROC_GETPORT: the port, or 0 when not registered. */
  getport(prog: number, vers: number, prot: number): number {
    const netid = netidOfProt(prot);
    const e = netid && this.lookup(prog, vers, netid);
    return e ? fromUniversalAddress(e.r_addr)!.port : 0;
  }

  /** PMAPPROC_DUMP: the tcp and udp entries as mappings. */
  mappings(): Mapping[] {
    return this.entries.flatMap((e) => {
      const prot = protOfNetid(e.r_netid);
      return prot === undefined ? [] : [{ prog: e.r_prog, vers: e.r_vers, prot, port: fromUniversalAddress(e.r_addr)!.port }];
    });
  }

  dump(): Rpcb[] {
    return this.entries.map((e) => ({ ...e }));
  }
}
