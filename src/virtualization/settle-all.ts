/**
 * Like Promise.all, but rejects only once every promise has settled (with the
 * first failure in order): a split I/O that fails must not leave sibling
 * writes in flight while the caller frees or reuses the pages they target.
 */
export async function settleAll(pending: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(pending);
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
  }
}
