/**
 * A job's bandwidth limit: after each batch, wait out any lead over `limit`
 * bytes per second since the start, in short steps so a cancel is not kept
 * waiting. A limit of 0 never waits.
 */
export class Throttle {
  private readonly began: number;
  private sent = 0;

  constructor(
    private readonly limit: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly clock: () => number = Date.now,
  ) {
    this.began = clock();
  }

  async pace(bytes: number, stopping: () => boolean): Promise<void> {
    this.sent += bytes;
    for (let ahead = this.lead(); ahead > 0 && !stopping(); ahead = this.lead()) await this.sleep(Math.min(ahead, 100));
  }

  /**
   * Before `bytes` go out: count them, then wait out any lead of what was
   * admitted before them, so nothing is issued ahead of the limit.
   */
  async admit(bytes: number, stopping: () => boolean): Promise<void> {
    this.sent += bytes;
    for (let ahead = this.lead(bytes); ahead > 0 && !stopping(); ahead = this.lead(bytes)) await this.sleep(Math.min(ahead, 100));
  }

  private lead(notYet = 0): number {
    return this.limit > 0 ? ((this.sent - notYet) * 1000) / this.limit - (this.clock() - this.began) : 0;
  }
}
