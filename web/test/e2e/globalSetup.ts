// Before the browser tests: the server must be built, and the bundle it serves must be this web/ tree's.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { repoRoot, serverDll } from "./harness";

export default function setup(): void {
  if (!existsSync(serverDll)) {
    // Builds the bundle too (the Collab.Web build runs npm run build).
    execFileSync("dotnet", ["build", "src/Collab.Web", "--nologo", "-v", "q"], { cwd: repoRoot, stdio: "inherit" });
  } else {
    execFileSync("npx", ["vite", "build", "--logLevel", "warn"], { cwd: `${repoRoot}/web`, stdio: "inherit" });
  }
}
