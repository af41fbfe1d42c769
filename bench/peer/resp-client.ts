/**
 * A small Redis client (RESP2 over one TCP socket) that implements BullMQ's `IRedisClient`, for
 * the peer baseline only. BullMQ 6 no longer ships a Redis driver (ioredis and redis are optional
 * peer dependencies) and the project takes no new dependency for a benchmark, so BullMQ is given
 * this client through `RedisConnection.clientFactory`, the hook BullMQ documents for other drivers.
 *
 * It does what ioredis does on the paths BullMQ uses, and nothing slower: commands are written
 * without waiting for earlier answers (pipelined), the writes of one tick go out in one socket
 * write, Lua scripts are loaded once (`SCRIPT LOAD`) and run with `EVALSHA` (falling back to
 * `EVAL` on NOSCRIPT), bulk strings are answered as strings and integers as numbers, like ioredis.
 * No reconnection logic: the benchmark's Redis does not go away, and if it did the run fails.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { IRedisClient, IRedisTransaction } from 'bullmq';

type Arg = string | number | Buffer;
export type Reply = string | number | null | Error | Reply[];

export class ReplyError extends Error {}

/** The message BullMQ recognises as "the connection was closed on purpose". */
const CLOSED = 'Connection is closed.';

export interface RespOptions {
  host: string;
  port: number;
  connectionName?: string;
  /** BullMQ checks this is not set for blocking connections. */
  maxRetriesPerRequest?: null;
}

interface Script {
  sha: string;
  lua: string;
  numberOfKeys: number;
}

type Callback = (err: Error | null, value: Reply) => void;

// ---------------------------------------------------------------------------------------------
// RESP2 parsing: parse() reads one reply at `pos` and leaves its end in `cursor`, or returns
// INCOMPLETE when the buffer does not hold the whole reply yet.

const INCOMPLETE = Symbol('incomplete');
let cursor = 0;

function readInt(b: Buffer, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (b[i] === 45) {
    neg = true;
    i++;
  }
  let n = 0;
  for (; i < end; i++) n = n * 10 + (b[i] - 48);
  return neg ? -n : n;
}

function parse(b: Buffer, pos: number): Reply | typeof INCOMPLETE {
  if (pos >= b.length) return INCOMPLETE;
  const cr = b.indexOf(13, pos);
  if (cr < 0 || cr + 1 >= b.length) return INCOMPLETE;
  const type = b[pos];
  switch (type) {
    case 43: // '+'
      cursor = cr + 2;
      return b.toString('utf8', pos + 1, cr);
    case 45: // '-'
      cursor = cr + 2;
      return new ReplyError(b.toString('utf8', pos + 1, cr));
    case 58: // ':'
      cursor = cr + 2;
      return readInt(b, pos + 1, cr);
    case 36: { // '$'
      const len = readInt(b, pos + 1, cr);
      if (len < 0) {
        cursor = cr + 2;
        return null;
      }
      const start = cr + 2;
      if (start + len + 2 > b.length) return INCOMPLETE;
      cursor = start + len + 2;
      return b.toString('utf8', start, start + len);
    }
    case 42: { // '*'
      const n = readInt(b, pos + 1, cr);
      if (n < 0) {
        cursor = cr + 2;
        return null;
      }
      const out: Reply[] = new Array(n);
      let p = cr + 2;
      for (let i = 0; i < n; i++) {
        const v = parse(b, p);
        if (v === INCOMPLETE) return INCOMPLETE;
        out[i] = v;
        p = cursor;
      }
      cursor = p;
      return out;
    }
    default:
      throw new Error(`RESP: unexpected byte ${type} at ${pos}`);
  }
}

/** Flattens arguments the way ioredis does: nested arrays spread, null/undefined as ''. */
function flatten(args: unknown[], out: Arg[] = []): Arg[] {
  for (const a of args) {
    if (Array.isArray(a)) flatten(a, out);
    else if (Buffer.isBuffer(a)) out.push(a);
    else if (a === undefined || a === null) out.push('');
    else out.push(typeof a === 'number' ? a : String(a));
  }
  return out;
}

const EMPTY = Buffer.alloc(0);

export class RespClient extends EventEmitter implements IRedisClient {
  status = 'wait';
  readonly isCluster = false;
  options: Record<string, any>;
  private socket: net.Socket | null = null;
  private readonly queue: Callback[] = [];
  private head = 0;
  private buf: Buffer = EMPTY;
  /** Encoded commands of this tick, strings merged: flushed in one write on the next tick. */
  private out: (string | Buffer)[] = [];
  private flushScheduled = false;
  private connecting: Promise<void> | null = null;
  readonly scripts = new Map<string, Script>();

  constructor(opts: RespOptions) {
    super();
    this.options = { ...opts, maxRetriesPerRequest: null };
    void this.connect().catch(() => undefined); // errors surface through 'error'
  }

  // ---- connection ----------------------------------------------------------------------------

  connect(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    if (this.connecting) return this.connecting;
    this.status = 'connecting';
    const socket = net.createConnection({ host: this.options.host, port: this.options.port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.buf = EMPTY;
    this.connecting = new Promise<void>((resolve, reject) => {
      let opened = false;
      const ready = () => {
        this.connecting = null;
        this.status = 'ready';
        resolve();
        this.emit('ready');
      };
      // Written before any other command of this connection (net.Socket holds writes until connected).
      if (this.options.connectionName) {
        this.send(['CLIENT', 'SETNAME', String(this.options.connectionName)], () => ready());
      }
      socket.on('connect', () => {
        opened = true;
        this.status = 'connect';
        this.emit('connect');
        if (!this.options.connectionName) ready();
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (err) => {
        if (!opened) {
          this.connecting = null;
          reject(err);
        }
        if (this.listenerCount('error') > 0) this.emit('error', err);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = null;
        this.connecting = null;
        this.status = 'end';
        this.failAll(new Error(CLOSED));
        this.emit('close');
        this.emit('end');
      });
    });
    return this.connecting;
  }

  disconnect(reconnect = false): void {
    const socket = this.socket;
    if (!socket) {
      this.status = 'end';
      setImmediate(() => this.emit('end'));
      return;
    }
    if (reconnect) socket.once('close', () => void this.connect().catch(() => undefined));
    socket.destroy();
  }

  async quit(): Promise<string> {
    if (!this.socket) {
      this.status = 'end';
      return 'OK';
    }
    const socket = this.socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await this.command(['QUIT']).catch(() => undefined);
    socket.end();
    await closed;
    return 'OK';
  }

  duplicate(opts?: { connectionName?: string }): RespClient {
    const dup = new RespClient({ host: this.options.host, port: this.options.port, connectionName: opts?.connectionName });
    for (const [name, script] of this.scripts) dup.addScript(name, script);
    return dup;
  }

  // ---- wire ----------------------------------------------------------------------------------

  private send(args: Arg[], cb: Callback): void {
    if (!this.socket) {
      cb(new Error(CLOSED), null);
      return;
    }
    let s = `*${args.length}\r\n`;
    for (const a of args) {
      if (Buffer.isBuffer(a)) {
        this.push(`${s}$${a.length}\r\n`);
        this.out.push(a);
        s = '\r\n';
      } else {
        const v = typeof a === 'string' ? a : String(a);
        s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
      }
    }
    this.push(s);
    this.queue.push(cb);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  private push(s: string): void {
    const last = this.out.length - 1;
    if (last >= 0 && typeof this.out[last] === 'string') this.out[last] += s;
    else this.out.push(s);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const parts = this.out;
    this.out = [];
    if (!this.socket || parts.length === 0) return;
    if (parts.length === 1) this.socket.write(parts[0]);
    else this.socket.write(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));
  };

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    while (pos < this.buf.length) {
      const v = parse(this.buf, pos);
      if (v === INCOMPLETE) break;
      pos = cursor;
      const cb = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (!cb) {
        this.emit('error', new Error('RESP: reply without a command'));
        continue;
      }
      cb(v instanceof Error ? v : null, v);
    }
    this.buf = pos >= this.buf.length ? EMPTY : this.buf.subarray(pos);
  }

  private failAll(err: Error): void {
    const pending = this.queue.splice(this.head);
    this.queue.length = 0;
    this.head = 0;
    this.out = [];
    for (const cb of pending) cb(err, null);
  }

  /** One command; a Redis error reply rejects. */
  command(args: unknown[]): Promise<any> {
    return new Promise((resolve, reject) => this.send(flatten(args), (err, v) => (err ? reject(err) : resolve(v))));
  }

  /** Several commands written together; each reply (errors included) in order. */
  batch(commands: Arg[][]): Promise<Reply[]> {
    return new Promise((resolve) => {
      const replies: Reply[] = new Array(commands.length);
      let left = commands.length;
      if (left === 0) return resolve(replies);
      commands.forEach((c, i) => this.send(c, (err, v) => {
        replies[i] = err ?? v;
        if (--left === 0) resolve(replies);
      }));
    });
  }

  // ---- Lua scripts ---------------------------------------------------------------------------

  private addScript(name: string, script: Script): void {
    this.scripts.set(name, script);
    (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => this.runCommand(name, args);
  }

  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void {
    const sha = createHash('sha1').update(definition.lua).digest('hex');
    this.addScript(name, { sha, lua: definition.lua, numberOfKeys: definition.numberOfKeys });
    this.command(['SCRIPT', 'LOAD', definition.lua]).catch(() => undefined); // EVALSHA falls back to EVAL
  }

  /** EVALSHA arguments of a defined script: sha, number of keys, keys, then argv. */
  scriptArgs(name: string, args: unknown[]): { script: Script; argv: Arg[] } {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`unknown script ${name}`);
    const flat = flatten(args.length === 1 && Array.isArray(args[0]) ? args[0] : args);
    return { script, argv: [script.sha, script.numberOfKeys, ...flat] };
  }

  async runCommand(name: string, args: unknown[]): Promise<any> {
    const { script, argv } = this.scriptArgs(name, args);
    try {
      return await this.command(['EVALSHA', ...argv]);
    } catch (err) {
      if (!(err instanceof ReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.command(['EVAL', script.lua, ...argv.slice(1)]);
    }
  }

  multi(): IRedisTransaction {
    return new RespTransaction(this, true);
  }

  pipeline(): IRedisTransaction {
    return new RespTransaction(this, false);
  }

  // ---- commands ------------------------------------------------------------------------------

  async hgetall(key: string): Promise<Record<string, string>> {
    const flat = (await this.command(['HGETALL', key])) as string[];
    const out: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
    return out;
  }
  hget(key: string, field: string): Promise<string | null> { return this.command(['HGET', key, field]); }
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]> { return this.command(['HMGET', key, ...fields]); }
  hset(key: string, data: Record<string, string | number>): Promise<number> { return this.command(['HSET', key, ...Object.entries(data).flat()]); }
  hdel(key: string, ...fields: string[]): Promise<number> { return this.command(['HDEL', key, ...fields]); }
  hexists(key: string, field: string): Promise<number> { return this.command(['HEXISTS', key, field]); }
  get(key: string): Promise<string | null> { return this.command(['GET', key]); }
  set(key: string, value: string | number, options?: { PX?: number; EX?: number }): Promise<string | null> {
    const extra = options?.PX != null ? ['PX', options.PX] : options?.EX != null ? ['EX', options.EX] : [];
    return this.command(['SET', key, value, ...extra]);
  }
  del(...keys: string[]): Promise<number> { return keys.length ? this.command(['DEL', ...keys]) : Promise.resolve(0); }
  zrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return this.command(['ZRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])]);
  }
  zrevrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return this.command(['ZREVRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])]);
  }
  zcard(key: string): Promise<number> { return this.command(['ZCARD', key]); }
  zscore(key: string, member: string): Promise<string | null> { return this.command(['ZSCORE', key, member]); }
  lrange(key: string, start: number, end: number): Promise<string[]> { return this.command(['LRANGE', key, start, end]); }
  llen(key: string): Promise<number> { return this.command(['LLEN', key]); }
  ltrim(key: string, start: number, end: number): Promise<string> { return this.command(['LTRIM', key, start, end]); }
  lpos(key: string, value: string): Promise<number | null> { return this.command(['LPOS', key, value]); }
  smembers(key: string): Promise<string[]> { return this.command(['SMEMBERS', key]); }
  xadd(key: string, id: string, fields: Record<string, string | number>, options?: { MAXLEN?: number; approximate?: boolean }): Promise<string> {
    const trim = options?.MAXLEN != null ? ['MAXLEN', ...(options.approximate === false ? [] : ['~']), options.MAXLEN] : [];
    return this.command(['XADD', key, ...trim, id, ...Object.entries(fields).flat()]);
  }
  xread(streams: { key: string; id: string }[], options?: { BLOCK?: number; COUNT?: number }): Promise<any> {
    const opts = [...(options?.BLOCK != null ? ['BLOCK', options.BLOCK] : []), ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])];
    return this.command(['XREAD', ...opts, 'STREAMS', ...streams.map((s) => s.key), ...streams.map((s) => s.id)]);
  }
  xtrim(key: string, strategy: 'MAXLEN', threshold: number, options?: { approximate?: boolean }): Promise<number> {
    return this.command(['XTRIM', key, strategy, ...(options?.approximate === false ? [] : ['~']), threshold]);
  }
  bzpopmin(key: string, timeout: number): Promise<[key: string, member: string, score: string] | null> { return this.command(['BZPOPMIN', key, timeout]); }
  info(): Promise<string> { return this.command(['INFO']); }
  clientSetName(name: string): Promise<any> { return this.command(['CLIENT', 'SETNAME', name]); }
  clientList(): Promise<string> { return this.command(['CLIENT', 'LIST']); }
  clientInfo(): Promise<string> { return this.command(['CLIENT', 'INFO']); }
  async scan(cursorArg: string | number, options: { MATCH?: string; COUNT?: number }): Promise<[string, string[]]> {
    const extra = [...(options.MATCH != null ? ['MATCH', options.MATCH] : []), ...(options.COUNT != null ? ['COUNT', options.COUNT] : [])];
    const [next, keys] = (await this.command(['SCAN', cursorArg, ...extra])) as [string, string[]];
    return [next, keys];
  }
  scanStream(options: { match: string; count?: number }): Readable {
    let next = '0';
    let started = false;
    const stream = new Readable({
      objectMode: true,
      read: () => {
        if (started && next === '0') return void stream.push(null);
        started = true;
        this.scan(next, { MATCH: options.match, COUNT: options.count }).then(([n, keys]) => {
          next = n;
          stream.push(keys);
        }, (err: Error) => stream.destroy(err));
      },
    });
    return stream;
  }
}

/** A pipeline (commands written together) or a MULTI/EXEC transaction. */
class RespTransaction implements IRedisTransaction {
  private readonly commands: Arg[][] = [];
  private readonly scripted: (string | null)[] = [];

  constructor(private readonly client: RespClient, private readonly atomic: boolean) {}

  private add(args: unknown[], script: string | null = null): this {
    this.commands.push(flatten(args));
    this.scripted.push(script);
    return this;
  }
  hgetall(key: string): this { return this.add(['HGETALL', key]); }
  hset(key: string, data: Record<string, string | number>): this { return this.add(['HSET', key, ...Object.entries(data).flat()]); }
  hscan(key: string, c: string | number, options?: { COUNT?: number }): this { return this.add(['HSCAN', key, c, ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]); }
  smembers(key: string): this { return this.add(['SMEMBERS', key]); }
  sscan(key: string, c: string | number, options?: { COUNT?: number }): this { return this.add(['SSCAN', key, c, ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]); }
  zrange(key: string, start: number, end: number): this { return this.add(['ZRANGE', key, start, end]); }
  lrange(key: string, start: number, end: number): this { return this.add(['LRANGE', key, start, end]); }
  llen(key: string): this { return this.add(['LLEN', key]); }
  del(...keys: string[]): this { return keys.length ? this.add(['DEL', ...keys]) : this; }
  runCommand(name: string, args: any[]): this {
    return this.add(['EVALSHA', ...this.client.scriptArgs(name, args).argv], name);
  }

  async exec(): Promise<[Error | null, any][] | null> {
    if (this.atomic) {
      const replies = await this.client.batch([['MULTI'], ...this.commands, ['EXEC']]);
      const exec = replies[replies.length - 1];
      if (exec === null) return null;
      if (exec instanceof Error) return this.commands.map(() => [exec, null]);
      return (exec as Reply[]).map((v) => (v instanceof Error ? [v, null] : [null, v]));
    }
    const replies = await this.client.batch(this.commands);
    // A script the server does not know (its cache was flushed): run that one again with EVAL.
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i];
      const name = this.scripted[i];
      if (r instanceof ReplyError && r.message.startsWith('NOSCRIPT') && name) {
        replies[i] = await this.client.runCommand(name, [this.commands[i].slice(3)]).catch((err: Error) => err);
      }
    }
    return replies.map((v) => (v instanceof Error ? [v, null] : [null, v]));
  }
}
