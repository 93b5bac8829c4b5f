import type { MirrorState, MirrorStore } from '../mirrored-disk';

/** A MirrorStore keeping what a restart would load; commits can be held to see who waits for them. */
export class FakeMirrorStore implements MirrorStore {
  readonly dirty = new Map<string, Set<number>>();
  readonly states = new Map<string, { state: MirrorState; reason: string | null }>();
  readonly intents = new Map<string, Set<number>>();
  markCommits = 0;
  intentCommits = 0;
  private gate?: Promise<void>;

  hold(): () => void {
    let resume!: () => void;
    this.gate = new Promise<void>((r) => (resume = r));
    return () => {
      this.gate = undefined;
      resume();
    };
  }

  regions(volumeId: string): number[] {
    return [...(this.dirty.get(volumeId) ?? [])].sort((a, b) => a - b);
  }

  async markDirty(volumeId: string, regions: readonly number[], state?: { state: MirrorState; reason: string | null }): Promise<void> {
    this.markCommits++;
    if (this.gate) await this.gate;
    const set = this.dirty.get(volumeId) ?? new Set<number>();
    for (const r of regions) set.add(r);
    this.dirty.set(volumeId, set);
    if (state) this.states.set(volumeId, state);
  }

  async clearDirty(volumeId: string, regions: readonly number[]): Promise<void> {
    if (this.gate) await this.gate;
    for (const r of regions) this.dirty.get(volumeId)?.delete(r);
  }

  intentRegions(volumeId: string): number[] {
    return [...(this.intents.get(volumeId) ?? [])].sort((a, b) => a - b);
  }

  async markIntent(volumeId: string, regions: readonly number[]): Promise<void> {
    this.intentCommits++;
    if (this.gate) await this.gate;
    const set = this.intents.get(volumeId) ?? new Set<number>();
    for (const r of regions) set.add(r);
    this.intents.set(volumeId, set);
  }

  async clearIntent(volumeId: string, regions: readonly number[]): Promise<void> {
    if (this.gate) await this.gate;
    for (const r of regions) this.intents.get(volumeId)?.delete(r);
  }

  async setState(volumeId: string, state: MirrorState, reason: string | null): Promise<void> {
    if (this.gate) await this.gate;
    this.states.set(volumeId, { state, reason });
  }
}
