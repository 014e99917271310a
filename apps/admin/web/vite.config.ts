/**
 * Vite build of the admin web app: `apps/admin/web` is the root, the bundle goes to `apps/admin/dist/web/`,
 * which the admin server serves beside `/trpc`. `vite` (dev:web) proxies `/trpc` to a running
 * `ksef-certs serve` (KSEF_CERTS_API, default http://127.0.0.1:8080) so cookies stay same-origin.
 */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // The app is served from 127.0.0.1; no source maps in the shipped bundle keeps dist small.
    sourcemap: false,
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/trpc": { target: process.env.KSEF_CERTS_API ?? "http://127.0.0.1:8080", changeOrigin: false },
    },
  },
});
