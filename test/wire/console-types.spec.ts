import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/*
 * The console keeps its own copy of the API's types (web/src/types.ts): the
 * browser build must not see the gateway's sources, which pull in Node's
 * types. This keeps the copy honest: console-types.check.ts asks the
 * compiler whether every object the gateway sends fits the console's type
 * of the same thing, so a field renamed, retyped or widened on one side
 * fails here instead of in a page at run time.
 */
describe("the console's API types", () => {
  it('accept every object the gateway sends', async () => {
    const root = join(__dirname, '..', '..');
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', join(__dirname, 'tsconfig.json')], { cwd: root }).then(
      () => ({ code: 0, out: '' }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? 1, out: e.stdout ?? String(e) }),
    );
    expect(run.out).toBe('');
    expect(run.code).toBe(0);
  });
});
