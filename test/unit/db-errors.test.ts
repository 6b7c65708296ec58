import t from 'tap';
import { isDatabaseUnavailable } from '../../src/db/errors.js';
import { toAppError } from '../../src/http/error-handler.js';

/** How drizzle wraps a driver error: the driver's error is the cause. */
function wrapped(cause: object): Error {
  return new Error('Failed query: select 1', { cause });
}

function withCode(code: string, message = 'from the server'): Error {
  return Object.assign(new Error(message), { code });
}

t.test('an unreachable, restarting or timed-out database is "unavailable", wrapped or not', async (t) => {
  const unavailable: [string, Error][] = [
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['connection reset', withCode('ECONNRESET')],
    ['host unreachable', withCode('EHOSTUNREACH')],
    ['admin shutdown (pg_ctl stop, pg_terminate_backend)', withCode('57P01')],
    ['crash shutdown', withCode('57P02')],
    ['starting up / in recovery', withCode('57P03')],
    ['too many connections', withCode('53300')],
    ['a connection exception (class 08)', withCode('08006')],
    ['statement_timeout', withCode('57014', 'canceling statement due to statement timeout')],
    ['lock_timeout', withCode('55P03', 'canceling statement due to lock timeout')],
    ['idle-in-transaction timeout', withCode('25P03')],
    ['pool wait timeout', new Error('timeout exceeded when trying to connect')],
    ['connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['connect timeout', new Error('Connection terminated due to connection timeout')],
    ['a client the pool already closed', new Error('Client was closed and is not queryable')],
    ['a broken client', new Error('Client has encountered a connection error and is not queryable')],
  ];
  for (const [what, error] of unavailable) {
    t.ok(isDatabaseUnavailable(error), what);
    t.ok(isDatabaseUnavailable(wrapped(error)), `${what}, wrapped by drizzle`);
    const appError = toAppError(wrapped(error));
    t.equal(appError.code, 'SERVICE_UNAVAILABLE', `${what}: SERVICE_UNAVAILABLE`);
    t.equal(appError.status, 503);
    t.match(appError.headers['retry-after'], /^[1-9]\d*$/, `${what}: Retry-After`);
  }
});

t.test('a query the database rejected is not "unavailable"', async (t) => {
  for (const [what, error] of [
    ['unique violation', withCode('23505')],
    ['syntax error', withCode('42601')],
    ['serialization failure', withCode('40001')],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
  ] as const) {
    t.notOk(isDatabaseUnavailable(wrapped(error)), what);
  }
  t.notOk(isDatabaseUnavailable(undefined));
  t.notOk(isDatabaseUnavailable('Connection terminated'), 'a bare string is not an error');
});
