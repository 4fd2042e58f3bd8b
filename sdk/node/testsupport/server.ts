/**
 * Real stripemeter server processes for end-to-end tests.
 *
 * Each server runs `stripemeter serve` from the repository's virtualenv on 127.0.0.1, on a
 * SQLite file in a private temporary directory, with a random bootstrap admin key. If the
 * server cannot start, start() throws: the tests fail loudly, they are never skipped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./paths.js";

export const stripemeterBin = join(repoRoot, ".venv", "bin", "stripemeter");

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it afterwards). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no port"));
      srv.close(() => resolve(addr.port));
    });
  });
}

/** A temporary database shared by one or more server processes. */
export class TestDatabase {
  readonly dir: string;
  readonly key: string;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "stripemeter-node-sdk-"));
    this.key = "sk_test_" + randomBytes(16).toString("hex");
  }
  get url(): string {
    return `sqlite:///${join(this.dir, "db.sqlite3")}`;
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Process groups of servers still running, killed if the test process exits without cleanup. */
const liveGroups = new Set<number>();
process.once("exit", () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export class ServerProcess {
  readonly port: number;
  readonly db: TestDatabase;
  readonly name: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly logPath: string;

  constructor(db: TestDatabase, port: number, name = `node-${port}`) {
    this.db = db;
    this.port = port;
    this.name = name;
    this.logPath = join(db.dir, `${name}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Start the process and wait until /health/ready answers 200 (at most `timeoutMs`). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.child) throw new Error(`${this.name} already running`);
    if (!existsSync(stripemeterBin)) {
      throw new Error(`stripemeter server not installed at ${stripemeterBin} (run \`make install\` at the repository root)`);
    }
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("STRIPEMETER_")) env[k] = v;
    env["STRIPEMETER_DATABASE_URL"] = this.db.url;
    env["STRIPEMETER_BOOTSTRAP_KEY"] = this.db.key;
    env["STRIPEMETER_DEFAULT_AUTO_CREATE_METRICS"] = "true"; // the tests name metrics freely
    const log = createWriteStream(this.logPath, { flags: "a" });
    const child = spawn(stripemeterBin, ["serve", "--host", "127.0.0.1", "--port", String(this.port)], {
      env,
      cwd: this.db.dir,
      stdio: ["ignore", "pipe", "pipe"],
      // Own process group, so a kill also reaches any worker processes the server forks.
      detached: true,
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.child = child;
    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        exitInfo = `exit code ${String(code)}, signal ${String(signal)}`;
        if (pid !== undefined) liveGroups.delete(pid);
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once("error", (err) => {
        exitInfo = `spawn error: ${err.message}`;
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exitInfo !== undefined) {
        throw new Error(`${this.name} exited during start-up (${exitInfo}):\n${this.logTail()}`);
      }
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kill the process (SIGKILL by default: a crash, no graceful shutdown) and wait for it to exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child) return;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      child.kill(signal);
    }
    await this.exited;
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

/** Kill every server and remove the database directory. */
export async function shutdown(servers: ServerProcess[], db: TestDatabase): Promise<void> {
  await Promise.all(servers.map((s) => s.kill()));
  db.cleanup();
}
