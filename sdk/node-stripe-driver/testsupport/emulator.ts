/**
 * The project's Stripe emulator as a real process (`stripemeter stripe-emulator`, from the
 * repository's virtualenv) on 127.0.0.1 and a free port, so the driver is tested through the
 * official `stripe` package against real HTTP — never a mock. Start-up failure throws.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (compiled files live in sdk/node-stripe-driver/dist/<dir>/). */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const stripemeterBin = join(repoRoot, ".venv", "bin", "stripemeter");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.on("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      if (address === null || typeof address === "string") return fail(new Error("no port"));
      probe.close(() => done(address.port));
    });
  });
}

export class Emulator {
  private constructor(readonly url: string, private readonly child: ChildProcess, private readonly output: string[]) {}

  static async start(timeoutMs = 60_000): Promise<Emulator> {
    if (!existsSync(stripemeterBin)) throw new Error(`${stripemeterBin} missing: run \`make install\` first`);
    const port = await freePort();
    const child = spawn(stripemeterBin, ["stripe-emulator", "--host", "127.0.0.1", "--port", String(port)], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const output: string[] = [];
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const emulator = new Emulator(`http://127.0.0.1:${port}`, child, output);
    await emulator.waitReady(timeoutMs);
    return emulator;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) break;
      try {
        const res = await fetch(`${this.url}/v1/customers`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        return; // any HTTP answer (401 without a key) means it is listening
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.stop();
    throw new Error(`the Stripe emulator did not start:\n${this.output.join("")}`);
  }

  stop(): void {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, "SIGTERM");
    } catch {
      this.child.kill("SIGTERM");
    }
  }
}
