import { run } from './program';

// exitCode rather than process.exit(): let stdout drain when it is a pipe.
// A command that succeeded but found problems (pool check, share fsck) has set a non-zero exitCode: keep it.
void run(process.argv).then((code) => {
  if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
});
