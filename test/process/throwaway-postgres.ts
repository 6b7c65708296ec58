import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/db/data-dir-lock.js';

/**
 * A PostgreSQL cluster of its own for a test that breaks the database on purpose: the machine's
 * initdb and pg_ctl, a temporary directory, a spare port on 127.0.0.1. PostgreSQL refuses to run
 * as root, so under root (CI) every command runs as the `postgres` OS user. Every command has a
 * deadline; `destroy()` stops the cluster however it was left and removes the directory.
 */

const COMMAND_TIMEOUT_MS = 20_000;
const PG_CTL_WAIT_SECONDS = 15;
const ORPHAN_EXIT_TIMEOUT_MS = 10_000;
const POLL_MS = 25;

export interface ThrowawayPostgres {
  readonly port: number;
  /** A connection string for a database on this cluster, as the superuser `postgres`. */
  url(database: string): string;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: a clean shutdown that ends every session. */
  stop(): Promise<void>;
  /** `pg_ctl stop -m immediate`: every backend is dropped at once, as in a crash or a failover. */
  stopImmediately(): Promise<void>;
  /** `kill -9` of the postmaster; waits until its orphaned children are gone, so it can restart. */
  killPostmaster(): Promise<void>;
  /** Stops the cluster, whatever state it is in, and removes its directory. Never throws. */
  destroy(): Promise<void>;
}

/** The newest PostgreSQL server binaries on the machine, or a reason why there are none. */
export function findPostgres(): { binDir: string; runAs: string | null } | { skip: string } {
  const root = '/usr/lib/postgresql';
  const candidates = existsSync(root)
    ? readdirSync(root)
        .filter((version) => /^\d+$/.test(version))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join(root, version, 'bin'))
    : [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // No pg_config on the PATH.
  }
  const binDir = candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((bin) => existsSync(join(dir, bin))));
  if (!binDir) return { skip: `no PostgreSQL server binaries (initdb, pg_ctl, postgres) in ${root}/*/bin or pg_config --bindir` };
  if (process.getuid?.() !== 0) return { binDir, runAs: null };
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    return { skip: 'running as root, and there is no `postgres` OS user to run PostgreSQL as' };
  }
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser')) {
    return { skip: 'running as root, and runuser is not available to run PostgreSQL as `postgres`' };
  }
  return { binDir, runAs: 'postgres' };
}

/** A port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}


/** Processes whose parent is `pid`, read from /proc (the backends and workers of a postmaster). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/**
 * A new cluster; with `replicaOf`, a streaming replica of that (running) cluster instead: a base
 * backup taken with `pg_basebackup -R`, which writes the standby settings, started on its own port.
 * initdb's trust rules already admit replication connections from 127.0.0.1.
 */
export async function startThrowawayPostgres(binDir: string, runAs: string | null, replicaOf?: ThrowawayPostgres): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'lede-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const port = await freePort();
  if (runAs) {
    const uid = Number(execFileSync('id', ['-u', runAs], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', runAs], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }

  const run = (bin: string, args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const [command, argv] = runAs ? ['runuser', ['-u', runAs, '--', join(binDir, bin), ...args]] : [join(binDir, bin), args];
      execFile(command, argv, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2_000) : '';
        reject(new Error(`${bin} ${args.join(' ')} failed: ${error.message}\n${stderr}\n${log}`));
      });
    });

  const postmasterPid = (): number | null => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  };

  const waitForExit = async (pids: number[], ms: number): Promise<number[]> => {
    const deadline = Date.now() + ms;
    let alive = pids.filter(isAlive);
    while (alive.length > 0 && Date.now() < deadline) {
      await sleep(POLL_MS);
      alive = alive.filter(isAlive);
    }
    return alive;
  };

  // If the test process dies before its teardown, do not leave a server running.
  const onExit = () => {
    const pid = postmasterPid();
    if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGQUIT');
  };
  process.once('exit', onExit);

  const cluster: ThrowawayPostgres = {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', String(PG_CTL_WAIT_SECONDS), 'start']);
    },
    async stop() {
      await run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', String(PG_CTL_WAIT_SECONDS), 'stop']);
    },
    async stopImmediately() {
      await run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', String(PG_CTL_WAIT_SECONDS), 'stop']);
    },
    async killPostmaster() {
      const pid = postmasterPid();
      if (pid === null) throw new Error('no postmaster.pid: the cluster is not running');
      const children = childrenOf(pid);
      process.kill(pid, 'SIGKILL');
      // Orphaned backends notice the postmaster's death and exit; a new postmaster refuses to
      // start while any of them still holds the old shared memory.
      const stubborn = await waitForExit([pid, ...children], ORPHAN_EXIT_TIMEOUT_MS);
      for (const straggler of stubborn) process.kill(straggler, 'SIGKILL');
      await waitForExit(stubborn, ORPHAN_EXIT_TIMEOUT_MS);
    },
    async destroy() {
      try {
        const pid = postmasterPid();
        if (pid !== null && isAlive(pid)) {
          await cluster.stopImmediately().catch(() => {
            if (isAlive(pid)) process.kill(pid, 'SIGKILL');
          });
        }
      } finally {
        process.removeListener('exit', onExit);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };

  try {
    // --no-sync only skips initdb's own fsync of the template files; the server runs with fsync on.
    if (replicaOf) {
      await run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(replicaOf.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '--no-sync']);
    } else {
      await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    }
    const quotedDir = dir.replaceAll("'", "''");
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      [
        '',
        // A replica's copy holds the primary's lines too: these, appended later, win.
        '# throwaway test cluster',
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        `unix_socket_directories = '${quotedDir}'`,
        'fsync = on',
        'synchronous_commit = on',
        'max_connections = 40',
        '',
      ].join('\n'),
    );
    await cluster.start();
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}
