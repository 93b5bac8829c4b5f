import { Controller, Get, Param, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { InvalidArgument, OutOfRange } from '../common/errors';
import type { Actor } from '../storage/domain';
import { AuditService } from '../storage/audit.service';
import { VolumeService } from '../storage/volume.service';
import type { VolumeIo } from '../virtualization/mirrored-disk';
import { CurrentActor } from './auth.guard';
import { optionalInt } from './query';

/** Transfer unit: big enough to stream fast, small enough that a 10 GiB image never sits in memory. */
const CHUNK = 4 * 2 ** 20;
/** Chunks in flight to the volume while the next ones arrive. */
const DEPTH = 4;

const ZERO = Buffer.alloc(CHUNK);
const isZero = (b: Buffer) => b.length <= ZERO.length && b.equals(ZERO.subarray(0, b.length));

/**
 * A volume's contents as a raw image, streamed both ways. An upload of zeros
 * is written as WRITE ZEROES so a thin volume stays thin; a completed PUT is
 * flushed to stable storage before it is acknowledged.
 */
@ApiTags('volumes')
@ApiBearerAuth()
@Controller('volumes/:key/image')
export class ImageController {
  constructor(
    private readonly volumes: VolumeService,
    private readonly audit: AuditService,
  ) {}

  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'length', required: false })
  @Get()
  async download(@Param('key') key: string, @Query('offset') off: string | undefined, @Query('length') len: string | undefined, @Res() res: Response, @Req() req: Request) {
    const disk = await this.volumes.disk(key);
    const offset = optionalInt(off, 'offset') ?? 0;
    const length = optionalInt(len, 'length') ?? disk.size - offset;
    if (offset + length > disk.size) throw new OutOfRange(`volume '${disk.name}'`, offset, length, disk.size);
    res.status(200);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(length));
    res.setHeader('Content-Disposition', `attachment; filename="${disk.name}.img"`);
    let aborted = false;
    req.on('close', () => (aborted = !res.writableFinished));
    // Read ahead DEPTH chunks while the socket drains the current one.
    const reads: Array<Promise<Buffer>> = [];
    let next = offset;
    const end = offset + length;
    const schedule = () => {
      while (reads.length < DEPTH && next < end) {
        const n = Math.min(CHUNK, end - next);
        reads.push(disk.read(next, n));
        next += n;
      }
    };
    schedule();
    try {
      while (reads.length > 0 && !aborted) {
        const chunk = await reads.shift()!;
        schedule();
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
      }
      res.end();
    } catch (e) {
      reads.forEach((p) => p.catch(() => undefined));
      throw e;
    }
  }

  @ApiQuery({ name: 'offset', required: false, description: 'byte offset in the volume where the body goes (default 0)' })
  @Put()
  async upload(@CurrentActor() actor: Actor, @Param('key') key: string, @Query('offset') off: string | undefined, @Req() req: Request) {
    const disk = await this.volumes.blockDisk(key);
    const offset = optionalInt(off, 'offset') ?? 0;
    const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
    if (declared !== undefined && offset + declared > disk.size) {
      throw new OutOfRange(`volume '${disk.name}'`, offset, declared, disk.size);
    }
    if (req.readableEnded) throw new InvalidArgument('the request body was already consumed: send application/octet-stream', 'body');
    const written = await this.audit.audited(
      actor,
      'volume.upload',
      { type: 'volume', id: disk.id, name: disk.name },
      () => receive(req, disk, offset),
      undefined,
      { offset, length: declared },
    );
    return { volume: disk.name, offset, length: written };
  }
}

/** Cut the body into CHUNK-sized writes, at most DEPTH in flight, pausing the socket when they back up. */
async function receive(req: Request, disk: VolumeIo, offset: number): Promise<number> {
  let pos = offset;
  let pending = Buffer.allocUnsafe(CHUNK);
  let fill = 0;
  const inflight = new Set<Promise<void>>();
  let failure: unknown;

  // Zero runs are cut at page boundaries and sent as WRITE ZEROES, so a sparse
  // image keeps a thin volume thin.
  const track = (p: Promise<void>) => {
    const q = p.catch((e: unknown) => {
      failure ??= e;
    });
    inflight.add(q);
    void q.finally(() => inflight.delete(q));
  };
  const submit = (buf: Buffer, at: number) => {
    const page = disk.pageSize;
    let start = 0;
    while (start < buf.length) {
      const zero = isZero(buf.subarray(start, Math.min(buf.length, start + page - ((at + start) % page))));
      let end = start;
      while (end < buf.length) {
        const stop = Math.min(buf.length, end + page - ((at + end) % page));
        if (isZero(buf.subarray(end, stop)) !== zero) break;
        end = stop;
      }
      track(zero ? disk.writeZeroes(at + start, end - start) : disk.write(at + start, buf.subarray(start, end)));
      start = end;
    }
  };

  for await (const piece of req as AsyncIterable<Buffer>) {
    let at = 0;
    while (at < piece.length) {
      const n = Math.min(piece.length - at, CHUNK - fill);
      piece.copy(pending, fill, at, at + n);
      fill += n;
      at += n;
      if (fill === CHUNK) {
        if (pos + CHUNK > disk.size) throw new OutOfRange(`volume '${disk.name}'`, pos, CHUNK, disk.size);
        submit(pending, pos);
        pos += CHUNK;
        pending = Buffer.allocUnsafe(CHUNK);
        fill = 0;
        while (inflight.size >= DEPTH) await Promise.race(inflight);
        if (failure) throw failure;
      }
    }
  }
  if (fill > 0) {
    if (pos + fill > disk.size) throw new OutOfRange(`volume '${disk.name}'`, pos, fill, disk.size);
    submit(pending.subarray(0, fill), pos);
    pos += fill;
  }
  await Promise.all(inflight);
  if (failure) throw failure;
  await disk.flush();
  return pos - offset;
}
