import { PassThrough } from 'node:stream';
import { run as cli } from '../../src/cli/program';
import type { TestGateway } from './gateway';

/** The CLI in this process, with its output captured (the gateway lives here too). */
export async function strata(gw: TestGateway, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await cli(['node', 'strata', ...args], {
      stdin: new PassThrough(),
      stdout,
      stderr,
      env: { STRATA_URL: gw.url, STRATA_TOKEN: gw.token, STRATA_CLI_CONFIG: '/nonexistent/strata-cli.json' },
    });
    // A command that succeeds but reports problems sets the process exit code, as `pool check` does.
    return { code: code || Number(process.exitCode ?? 0), stdout: out, stderr: err };
  } finally {
    process.exitCode = saved;
  }
}

