import { defineConfig } from "vite";

// Preact through the JSX automatic runtime: no framework plugin needed. The service worker is a
// second entry built to /sw.js (unhashed: its URL must stay stable; the gateway never caches it).
export default defineConfig({
  // Changes sw.js on every build, so browsers install the new worker and drop the old shell.
  define: { __BUILD_ID__: JSON.stringify(Date.now().toString(36)) },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      input: { main: "index.html", sw: "src/sw/sw.ts" },
      output: {
        entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js"),
      },
    },
  },
  // `npx vite` for development: the API of a running `make run` stack.
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
});
