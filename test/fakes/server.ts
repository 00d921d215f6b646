/**
 * Plumbing shared by the vendor fakes: an express app on 127.0.0.1, port 0 (tests run in
 * parallel with other people's), a queue of scripted faults, and a log of what was asked.
 *
 * Faults are consumed in order by the first request of the matching operation:
 *   { status: 429, retryAfter: '7' }  answer that status (with a vendor-shaped body)
 *   { status: 503 }                   a 5xx
 *   { delayMs: 500 }                  answer normally, but late (for client timeouts)
 *   { dropAfterHandling: true }       do the work, then cut the connection: a lost answer
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';

export interface Fault {
  status?: number;
  retryAfter?: string;
  body?: unknown;
  delayMs?: number;
  dropAfterHandling?: boolean;
  /** Shopify only: a THROTTLED answer with this cost picture. */
  throttled?: { requestedQueryCost: number; currentlyAvailable: number; restoreRate: number };
}

export interface LoggedRequest {
  operation: string;
  method: string;
  path: string;
  /** Path and query string. */
  url: string;
  /** Headers with credentials removed (the log is printed when a test fails). */
  headers: Record<string, string>;
  body: unknown;
  at: number;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class FaultScript {
  private readonly queue: { operation: string; fault: Fault }[] = [];

  add(operation: string, ...faults: Fault[]): void {
    for (const fault of faults) this.queue.push({ operation, fault });
  }

  take(operation: string): Fault | undefined {
    const index = this.queue.findIndex((f) => f.operation === operation || f.operation === '*');
    if (index < 0) return undefined;
    return this.queue.splice(index, 1)[0]!.fault;
  }

  get pending(): number {
    return this.queue.length;
  }
}

const SECRET_HEADERS = /^(authorization|x-shopify-access-token)$/i;

export abstract class FakeVendor {
  readonly faults = new FaultScript();
  readonly requests: LoggedRequest[] = [];
  protected readonly app: Express;
  private server?: Server;
  url = '';

  constructor() {
    this.app = express();
    this.app.use(express.json({ type: () => true, limit: '5mb' }));
  }

  protected log(operation: string, req: Request): void {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!SECRET_HEADERS.test(k) && typeof v === 'string') headers[k] = v;
    }
    this.requests.push({
      operation,
      method: req.method,
      path: req.path,
      url: req.originalUrl,
      headers,
      body: req.body as unknown,
      at: Date.now(),
    });
  }

  /** Requests of one operation. */
  calls(operation: string): LoggedRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  /**
   * Answers one request: a scripted fault if one is queued for `operation`, otherwise what
   * `handle` computes. Delays and dropped answers still run `handle` (the vendor did the work).
   */
  protected async answer(
    operation: string,
    req: Request,
    res: Response,
    handle: () => Answer,
  ): Promise<void> {
    this.log(operation, req);
    const fault = this.faults.take(operation);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.status) {
      if (fault.retryAfter !== undefined) res.set(this.retryAfterHeader, fault.retryAfter);
      res.status(fault.status).json(fault.body ?? this.errorBody(fault.status));
      return;
    }
    if (fault?.throttled) {
      const throttled = this.throttledAnswer(fault.throttled);
      res.status(throttled.status).json(throttled.body);
      return;
    }
    const result = handle();
    if (fault?.dropAfterHandling) {
      req.socket.destroy();
      return;
    }
    if (result.headers) res.set(result.headers);
    if (result.body === undefined) res.status(result.status).end();
    else res.status(result.status).json(result.body);
  }

  /** The vendor's error body for a scripted status. */
  protected abstract errorBody(status: number): unknown;

  protected retryAfterHeader = 'Retry-After';

  protected throttledAnswer(_cost: NonNullable<Fault['throttled']>): Answer {
    return { status: 500, body: { error: 'this vendor has no THROTTLED answer' } };
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => {
      this.server = this.app.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server!.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
