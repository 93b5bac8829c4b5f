import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The web console, built into web/dist where the gateway serves it at /.
 * Paths are anchored here so the build is the same from any working directory,
 * and nothing is read from the repository root (its vitest config is for the
 * gateway's tests).
 */
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  envDir: root,
  plugins: [react()],
  // `npm run build` and the e2e test run this: only problems are worth printing.
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    reportCompressedSize: false,
    target: 'es2022',
  },
});
