import { run } from './program';

// exitCode rather than process.exit(): let stdout drain when it is a pipe.
void run(process.argv).then((code) => {
  process.exitCode = code;
});
