import { details, duration, size, table } from '../../cli/format';
import type { AttachStatus } from '../attachment';
import type { VolumeDescription } from '../volume';

/** What a person reads from strata-client: the volumes a host may attach, and the attached ones. */

export function volumeTable(list: Array<VolumeDescription & { attached?: string }>): string {
  return table(
    ['VOLUME', 'SIZE', 'ACCESS', 'SHARING', 'LUN', 'BLOCK', 'ATTACHED'],
    list.map((v) => [v.name, size(v.size), v.readOnly ? 'ro' : 'rw', v.shared ? 'shared' : 'exclusive', v.lun, v.blockSize, v.attached]),
  );
}

const mbps = (bytesPerSec: number) => `${(bytesPerSec / 1e6).toFixed(1)} MB/s`;
const ms = (v: number | undefined) => (v === undefined ? null : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`);

export function showAttachment(s: AttachStatus): string {
  const head = details([
    ['Volume', `${s.volume} (${size(s.size)}, ${s.readOnly ? 'read-only' : 'read-write'}${s.shared ? ', shared' : ''})`],
    ['NBD', s.uri],
    ['Process', `pid ${s.pid}, up ${duration(s.uptimeSeconds)}, host '${s.host}'`],
    ['Clients', `${s.nbd.connections} connected, ${s.nbd.requests} requests, ${s.nbd.errors} errors`],
    ['Throughput', `read ${mbps(s.rate.readBytesPerSec)}, write ${mbps(s.rate.writeBytesPerSec)}, ${s.rate.opsPerSec} ops/s (last ${s.rate.seconds} s)`],
    ['Paths', s.paths.map((p) => `${p.gateway} ${p.up}/${p.sessions} up`).join(', ')],
    ['Security', s.sessions.some((x) => x.security === 'integrity') ? 'integrity: data in clear, every datagram authenticated' : 'encrypt (AES-256-GCM)'],
  ]);
  const sessions = table(
    ['GATEWAY', 'LOCAL', 'STATE', 'RTT', 'RTO', 'RETRANSMITS', 'TIMEOUTS', 'OPS', 'IN FLIGHT', 'CREDITS', 'SENT', 'RECEIVED', 'LOGINS'],
    s.sessions.map((x) => [
      x.gateway,
      x.localPort,
      x.up ? 'up' : 'DOWN',
      ms(x.srtt),
      ms(x.rto),
      x.retransmits,
      x.timeouts,
      x.ops,
      x.inFlight,
      x.credits ?? '-',
      size(x.bytesSent),
      size(x.bytesReceived),
      x.logins,
    ]),
  );
  const down = s.sessions.filter((x) => !x.up && x.lastError).map((x) => `  ${x.gateway} (local port ${x.localPort}): ${x.lastError}`);
  return `${head}\n\nSessions:\n${sessions}${down.length ? `\n\nDown:\n${down.join('\n')}` : ''}`;
}
