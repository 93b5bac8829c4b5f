import { describe, expect, it } from 'vitest';
import { decodeBundle } from '../../protocols/san/bundle';
import { Kind } from '../../protocols/san/constants';
import type { OutgoingSegment } from './channel';
import { SegmentBatcher } from './segment-batcher';

const seg = (xid: number, bytes: number): OutgoingSegment => ({ kind: Kind.REPLY_SEG, xid, segment: 0, segments: 1, messageLength: bytes, payload: Buffer.alloc(bytes, xid) });

function rig(capacity: number) {
  const sent: string[] = [];
  const deferred: Array<() => void> = [];
  const b = new SegmentBatcher(
    capacity,
    (d) => sent.push(d.kind === Kind.BUNDLE ? `bundle:${decodeBundle(d.payload).map((x) => x.xid).join(',')}` : `one:${d.xid}`),
    (fn) => deferred.push(fn),
  );
  const turn = () => deferred.splice(0).forEach((fn) => fn());
  return { b, sent, turn };
}

describe('SegmentBatcher', () => {
  it('sends a lone segment as itself at the end of the turn', () => {
    const { b, sent, turn } = rig(1000);
    b.push(seg(1, 100));
    expect(sent).toEqual([]);
    turn();
    expect(sent).toEqual(['one:1']);
  });

  it('bundles the small segments of one turn, starting a new bundle when one is full', () => {
    const { b, sent, turn } = rig(1000);
    for (let x = 1; x <= 5; x++) b.push(seg(x, 300)); // 316 bytes each: three fit in 1000
    turn();
    expect(sent).toEqual(['bundle:1,2,3', 'bundle:4,5']);
  });

  it('sends a segment too large to share at once, after what was waiting, keeping the order', () => {
    const { b, sent, turn } = rig(1000);
    b.push(seg(1, 100));
    b.push(seg(2, 100));
    b.push(seg(3, 990));
    b.push(seg(4, 100));
    expect(sent).toEqual(['bundle:1,2', 'one:3']);
    turn();
    expect(sent).toEqual(['bundle:1,2', 'one:3', 'one:4']);
  });

  it('sends nothing that was cleared', () => {
    const { b, sent, turn } = rig(1000);
    b.push(seg(1, 100));
    b.clear();
    turn();
    expect(sent).toEqual([]);
  });
});
