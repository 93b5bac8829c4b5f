/**
 * Counters of the SAN front end: plain numbers the metrics collector reads.
 * Every datagram that is not acted on is counted under why.
 */
export interface SanStats {
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Short, bad magic, bad length, bad CRC, or a payload that does not decode. */
  malformed: number;
  /** Answered with ERROR BAD_VERSION or BAD_KIND. */
  badVersionOrKind: number;
  /** Sealed datagrams that failed authentication (forged, or corrupted past the CRC). */
  forged: number;
  /** Packet numbers already seen or left of the replay window. */
  replayed: number;
  /** For a session that does not exist (answered NO_SESSION). */
  noSession: number;
  /** A kind a client never sends, unsealed session traffic, or from the wrong address. */
  unexpected: number;
  loginsAccepted: number;
  loginsRefused: number;
  sessionsExpired: number;
  calls: number;
  /** Retransmitted calls answered from the reply cache, never executed again. */
  callsReplayed: number;
  /** Calls answered with a status other than OK. */
  callErrors: number;
  /** Calls whose slot sequence was stale or skipped (SEQ_MISORDERED), not executed. */
  callsMisordered: number;
  serverFaults: number;
  /** Large READ replies sent from a buffer an earlier reply had used (ReplyBuffers). */
  replyBuffersReused: number;
  /** Pooled reply buffers left to the garbage collector: a send was still queued, or the pool was full. */
  replyBuffersDiscarded: number;
}

export function newSanStats(): SanStats {
  return {
    datagramsIn: 0,
    datagramsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    malformed: 0,
    badVersionOrKind: 0,
    forged: 0,
    replayed: 0,
    noSession: 0,
    unexpected: 0,
    loginsAccepted: 0,
    loginsRefused: 0,
    sessionsExpired: 0,
    calls: 0,
    callsReplayed: 0,
    callErrors: 0,
    callsMisordered: 0,
    serverFaults: 0,
    replyBuffersReused: 0,
    replyBuffersDiscarded: 0,
  };
}
