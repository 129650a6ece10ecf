/**
 * Run a reference tool without blocking the event loop (the service under test lives in the same
 * process, so `spawnSync` would deadlock it).
 */
import { spawn } from 'node:child_process';

export interface AsyncRunResult {
  status: number;
  stdout: Buffer;
  stderr: string;
  text: string;
}

export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<AsyncRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.env ? { env: opts.env } : {}) });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-20000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolve({ status: code ?? -1, stdout, stderr: err, text: stdout.toString('utf8') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** `curl -sS` with the status code and the response headers (`%{header_json}`) captured. */
export async function curl(args: string[], input?: string | Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer; text: string; exit: number; stderr: string }> {
  const marker = '\n--imagekit-curl-status--';
  const r = await run('curl', ['-sS', '-w', `${marker}%{http_code} %{header_json}`, ...args], input === undefined ? {} : { input });
  const idx = r.stdout.lastIndexOf(Buffer.from(marker));
  const body = idx >= 0 ? r.stdout.subarray(0, idx) : r.stdout;
  const tail = idx >= 0 ? r.stdout.subarray(idx + marker.length).toString() : '000 {}';
  const space = tail.indexOf(' ');
  const status = Number(tail.slice(0, space));
  const headers: Record<string, string> = {};
  const json = JSON.parse(tail.slice(space + 1) || '{}') as Record<string, string[]>;
  for (const [k, v] of Object.entries(json)) headers[k.toLowerCase()] = v.join(', ');
  return { status, headers, body, text: body.toString('utf8'), exit: r.status, stderr: r.stderr };
}

export async function jq(filter: string, input: string | Buffer, args: string[] = []): Promise<string> {
  const r = await run('jq', [...args, filter], { input });
  if (r.status !== 0) throw new Error(`jq ${filter} failed: ${r.stderr}`);
  return r.text;
}
