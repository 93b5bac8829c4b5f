import { spawnSync } from 'node:child_process';

/** Whether a program is on PATH (tests that need a Debian tool skip with a printed reason when not). */
export function has(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}
