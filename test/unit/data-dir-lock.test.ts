import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DataDirLockedError, lockDataDir } from '../../src/db/data-dir-lock.js';

const LOCK_FILE = 'lede.lock';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'lede-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A live process that is not this one, killed when the test ends. */
async function foreignProcess(t: Test): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  if (child.pid === undefined) throw new Error('sleep did not start');
  return child as ChildProcess & { pid: number };
}

/** A pid that belonged to a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  const pid = child.pid;
  await new Promise((resolve) => child.once('exit', resolve));
  if (pid === undefined) throw new Error('true did not start');
  return pid;
}

t.test('locking writes our pid; releasing removes the lock file', async (t) => {
  const dir = tempDir(t);
  const release = lockDataDir(dir);
  const lockPath = join(dir, LOCK_FILE);
  t.ok(existsSync(lockPath));
  t.equal(readFileSync(lockPath, 'utf8'), String(process.pid));
  release();
  t.notOk(existsSync(lockPath), 'released');
  t.doesNotThrow(() => release(), 'releasing twice is harmless');
});

t.test('a missing data directory is created', async (t) => {
  const dir = join(tempDir(t), 'nested', 'data');
  const release = lockDataDir(dir);
  t.ok(existsSync(join(dir, LOCK_FILE)));
  release();
});

t.test('a lock held by another live process is refused', async (t) => {
  const dir = tempDir(t);
  const owner = await foreignProcess(t);
  writeFileSync(join(dir, LOCK_FILE), String(owner.pid));

  t.throws(() => lockDataDir(dir), DataDirLockedError);
  try {
    lockDataDir(dir);
  } catch (error) {
    t.equal((error as Error).name, 'DataDirLockedError');
    t.match((error as Error).message, `already in use by process ${owner.pid}`);
    t.match((error as Error).message, dir);
  }
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), String(owner.pid), "the owner's lock is left alone");
});

t.test('a lock left by a process that died is taken over', async (t) => {
  const dir = tempDir(t);
  const pid = await deadPid();
  writeFileSync(join(dir, LOCK_FILE), String(pid));

  const release = lockDataDir(dir);
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), String(process.pid));
  release();
  t.notOk(existsSync(join(dir, LOCK_FILE)));
});

t.test('a lock file with garbage in it is taken over', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, LOCK_FILE), 'not a pid');
  const release = lockDataDir(dir);
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), String(process.pid));
  release();
});

t.test('after the owner releases, the next process may lock', async (t) => {
  const dir = tempDir(t);
  const owner = await foreignProcess(t);
  writeFileSync(join(dir, LOCK_FILE), String(owner.pid));
  t.throws(() => lockDataDir(dir), DataDirLockedError);
  rmSync(join(dir, LOCK_FILE)); // what the owner's release does
  const release = lockDataDir(dir);
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), String(process.pid));
  release();
});
