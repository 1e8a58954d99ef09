// Vite build of the web console (src/console/web -> dist/console), served by the service at /console.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

// The console shares src/crypto, src/ledger, src/agreements and src/client with the CLI. Their
// only platform-specific file is src/crypto/bytes-node.ts; the page gets bytes-browser.ts instead,
// and any other node: import reaching the page is a build error rather than a runtime surprise.
function browserSafe(): Plugin {
  return {
    name: 'tds-browser-safe',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './bytes-node.js' && importer?.endsWith(`${path.sep}crypto${path.sep}sha256.ts`)) {
        return path.join(root, 'src/crypto/bytes-browser.ts');
      }
      if (source.startsWith('node:')) this.error(`${source} imported by ${importer ?? '?'}: console code must be browser safe`);
      return null;
    },
  };
}

export default defineConfig({
  root: path.join(root, 'src/console/web'),
  base: '/console/',
  publicDir: false,
  plugins: [browserSafe()],
  build: {
    outDir: path.join(root, 'dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    modulePreload: { polyfill: false },
  },
  worker: { format: 'es', plugins: () => [browserSafe()] },
});
