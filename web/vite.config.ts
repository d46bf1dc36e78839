import { resolve } from "node:path";
import { defineConfig } from "vite";

// Multi-page build straight into the web host's wwwroot. The base is absolute because the editor page is served
// for every /d/{doc}: relative asset URLs would resolve under /d/.
export default defineConfig({
  base: "/",
  build: {
    outDir: resolve(import.meta.dirname, "../src/Collab.Web/wwwroot"),
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, "index.html"),
        editor: resolve(import.meta.dirname, "editor.html"),
      },
    },
  },
  server: {
    // `npm run dev` talks to a locally running `dotnet run --project src/Collab.Web`.
    proxy: {
      "/ws": { target: "ws://localhost:5000", ws: true },
      "/api": "http://localhost:5000",
      "/sse": "http://localhost:5000",
    },
  },
});
