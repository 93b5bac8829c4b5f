import { runClient } from './program';

// exitCode rather than process.exit(): let stdout drain when it is a pipe.
void runClient(process.argv).then((code) => {
  process.exitCode = code;
});
