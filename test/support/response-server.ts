import { createServer, globalAgent, Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { testCertificate } from './certificate';

/*
 * A local HTTPS server standing in for the pre-signed S3 URL CloudFormation gives a custom
 * resource (ResponseURL): it records each request and, as S3 does, refuses (403) one the URL was
 * not signed for: another method or path, or a content type (the URL is signed without one). Else
 * it answers with the status a test sets. The worker's HTTPS agent trusts it as Lambda trusts S3's
 * certificate, until `stop`.
 */

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export const RESPONSE_PATH =
  '/cloudformation-custom-resource-response-euwest1/arn%3Aaws%3Acloudformation%3Astack/req-1';
const QUERY = '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc123';

export class ResponseServer {
  readonly received: ReceivedRequest[] = [];
  /** The status the next requests get; none, when `silent`. */
  answer = 200;
  /** Statuses for the next requests, one each, before `answer`. */
  readonly answers: number[] = [];
  /** Take requests and never answer them. */
  silent = false;
  private trustedBefore: typeof globalAgent.options.ca;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<ResponseServer> {
    const { cert, private: key } = testCertificate();
    const server = createServer({ cert, key });
    const self = new ResponseServer(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        self.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const signedFor =
          req.method === 'PUT' &&
          req.url === RESPONSE_PATH + QUERY &&
          req.headers['content-type'] === '' &&
          Number(req.headers['content-length']) === Buffer.byteLength(body);
        if (self.silent) return;
        res.statusCode = signedFor ? (self.answers.shift() ?? self.answer) : 403;
        res.end();
      });
    });
    // The agent is the worker's, shared by the test files after this one: restored by stop().
    self.trustedBefore = globalAgent.options.ca;
    globalAgent.options.ca = cert;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return self;
  }

  /** The pre-signed URL to put in an event's ResponseURL. */
  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}${RESPONSE_PATH}${QUERY}`;
  }

  reset(): void {
    this.received.length = 0;
    this.answer = 200;
    this.answers.length = 0;
    this.silent = false;
  }

  /** The JSON document of the one request so far (which the handler made only if it was accepted). */
  onePut(): Record<string, unknown> {
    if (this.received.length !== 1) throw new Error(`expected one response PUT, got ${this.received.length}`);
    return JSON.parse(this.received[0].body) as Record<string, unknown>;
  }

  async stop(): Promise<void> {
    globalAgent.options.ca = this.trustedBefore;
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
