// A small HTTP server of JSON endpoints, for admin and debug ports. An endpoint may answer
// with text instead (Prometheus exposition), and may read the method and query.
import { createServer, type Server } from 'node:http';

/** A body sent as is, not as JSON. */
export class TextBody {
  readonly text: string;
  readonly contentType: string;

  constructor(text: string, contentType = 'text/plain; charset=utf-8') {
    this.text = text;
    this.contentType = contentType;
  }
}

export interface EndpointRequest {
  readonly method: string;
  readonly query: URLSearchParams;
}

type EndpointAnswer = readonly [number, unknown];

/** Path -> [status, body]; bodies are serialised as indented JSON unless they are a TextBody. */
export type JsonEndpoints = Readonly<Record<string, (request: EndpointRequest) => EndpointAnswer | Promise<EndpointAnswer>>>;

export function createJsonServer(endpoints: JsonEndpoints): Server {
  return createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const endpoint = endpoints[url.pathname];
    const answer = async (): Promise<EndpointAnswer> => (endpoint ? endpoint({ method: request.method ?? 'GET', query: url.searchParams }) : [404, { error: `no such endpoint; try ${Object.keys(endpoints).join(', ')}` }]);
    answer().then(
      ([status, body]) => {
        if (body instanceof TextBody) response.writeHead(status, { 'content-type': body.contentType }).end(body.text);
        else response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
      },
      (error: unknown) => response.writeHead(500, { 'content-type': 'application/json' }).end(`${JSON.stringify({ error: (error as Error).message })}\n`),
    );
  });
}

/** What a Prometheus registry (prom-client's) offers a scrape. */
export interface PrometheusRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** A scrape endpoint: the registry's exposition text. */
export function prometheusEndpoint(registry: PrometheusRegistry): JsonEndpoints[string] {
  return async () => [200, new TextBody(await registry.metrics(), registry.contentType)];
}
