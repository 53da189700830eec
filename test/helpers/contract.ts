import { Ajv2020 } from 'ajv/dist/2020.js';

interface Media { schema?: unknown }
interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: unknown }[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

/** What one HTTP exchange looked like, as a client saw it. */
export interface Exchange {
  method: string;
  url: URL;
  requestType?: string;
  requestText?: string;
  status: number;
  responseType: string;
  responseText: string;
  /** The `Pushwire-Error` header: set on an error answered with a 2xx (Pushlet's way), whose request was refused. */
  errorCode?: string | null;
}

const byText = new Map<string, Contract>();

/**
 * The API's OpenAPI document (/openapi.json) as a judge of real exchanges: every answer must be
 * one the document describes (its status, media type and schema), and a request the server
 * accepted (2xx) must be one the document allows. The test helpers put every request of the
 * suites through it, so the document cannot drift from what the server does.
 */
export class Contract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, coerceTypes: true });
  private readonly routes: { pattern: RegExp; path: string; params: number }[];

  private constructor(private readonly document: Document) {
    this.ajv.addSchema(document as object, 'doc');
    this.routes = Object.keys(document.paths).map((path) => ({
      path,
      params: (path.match(/\{/g) ?? []).length,
      pattern: new RegExp(`^${path.replace(/\/$/, '').replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
    // Literal segments before parameters: /notifications/push is not /notifications/{uuid}.
    })).sort((a, b) => a.params - b.params);
  }

  /**
   * The document the server at `origin` publishes now, or null if it publishes none (monitor,
   * pusher) or does not answer. Asked each time: a port may serve another configuration later.
   */
  static async of(origin: string): Promise<Contract | null> {
    const response = await fetch(`${origin}/openapi.json`).catch(() => null);
    if (response?.status !== 200) return null;
    const text = await response.text();
    let contract = byText.get(text);
    if (!contract) {
      const document = JSON.parse(text) as Document & { openapi?: string };
      if (!document.openapi?.startsWith('3.1')) return null;
      contract = new Contract(document);
      byText.set(text, contract);
    }
    return contract;
  }

  /** What is wrong with the exchange by the document; empty when nothing is. */
  problems(exchange: Exchange): string[] {
    const where = `${exchange.method} ${exchange.url.pathname} → ${exchange.status}`;
    const route = this.routes.find(({ pattern }) => pattern.test(exchange.url.pathname));
    const method = exchange.method.toLowerCase();
    const operation = route && this.document.paths[route.path][method];
    if (!operation) return this.undocumented(exchange, where);
    const pointer = `doc#/paths/${escape(route.path)}/${method}`;
    const answer = operation.responses[String(exchange.status)] !== undefined ? String(exchange.status)
      : operation.responses[`${String(exchange.status)[0]}XX`] !== undefined ? `${String(exchange.status)[0]}XX` : 'default';
    const response = operation.responses[answer];
    if (!response) return [`${where}: status not documented`];
    const problems: string[] = [];
    if (response.content && exchange.responseText !== '') {
      const media = mediaType(exchange.responseType);
      if (!response.content[media]) problems.push(`${where}: ${media} not documented`);
      else if (media === 'application/json') {
        problems.push(...this.check(`${pointer}/responses/${answer}/content/${escape(media)}/schema`, JSON.parse(exchange.responseText), `${where}: response`));
      }
    }
    if (exchange.status < 300 && !exchange.errorCode) problems.push(...this.requestProblems(operation, pointer, exchange, where));
    return problems;
  }

  /** A request the server accepted must be one the document allows. */
  private requestProblems(operation: Operation, pointer: string, exchange: Exchange, where: string): string[] {
    const problems: string[] = [];
    const query = Object.fromEntries(exchange.url.searchParams);
    for (const [index, parameter] of (operation.parameters ?? []).entries()) {
      if (parameter.in !== 'query') continue;
      if (query[parameter.name] === undefined) {
        if (parameter.required) problems.push(`${where}: query ${parameter.name} is required`);
        continue;
      }
      problems.push(...this.check(`${pointer}/parameters/${index}/schema`, query[parameter.name], `${where}: query ${parameter.name}`));
    }
    const body = parsedBody(exchange);
    if (body === undefined) {
      if (operation.requestBody?.required) problems.push(`${where}: a body is required`);
    } else if (operation.requestBody) {
      // `*/*`: the route reads any body as JSON (Moxie's do), whatever its type says.
      const sent = mediaType(exchange.requestType ?? '');
      const media = operation.requestBody.content[sent] ? sent : operation.requestBody.content['*/*'] ? '*/*' : null;
      if (!media) problems.push(`${where}: request ${sent} not documented`);
      else problems.push(...this.check(`${pointer}/requestBody/content/${escape(media)}/schema`, media === '*/*' ? jsonOrText(exchange.requestText!) : body, `${where}: request body`));
    }
    return problems;
  }

  /**
   * Outside the document: only errors (404 for a path no route has) and files (the SDK bundles,
   * the docs page). An error under an API's prefix is in that API's error shape (Pushlet's is its own).
   */
  private undocumented(exchange: Exchange, where: string): string[] {
    if (exchange.responseText === '' || mediaType(exchange.responseType) !== 'application/json') return [];
    if (exchange.status >= 400) return this.check(this.errorSchemaUnder(exchange.url.pathname), JSON.parse(exchange.responseText), `${where}: error`);
    return [`${where}: a JSON answer from a route the document does not list`];
  }

  /** The error schema of the documented operations that share the path's first segment, if they all agree; else the Error schema. */
  private errorSchemaUnder(pathname: string): string {
    const prefix = `/${pathname.split('/')[1]}/`;
    const refs = new Set(Object.entries(this.document.paths).filter(([path]) => path.startsWith(prefix))
      .flatMap(([, operations]) => Object.values(operations).map((operation) => (operation.responses['4XX']?.content?.['application/json']?.schema as { $ref?: string } | undefined)?.$ref)));
    const [only] = refs;
    return refs.size === 1 && only ? `doc${only}` : 'doc#/components/schemas/Error';
  }

  private check(ref: string, value: unknown, what: string): string[] {
    const validate = this.ajv.getSchema(ref);
    if (!validate) return [`${what}: no schema at ${ref}`];
    // Coercion (a query's text as a number) works on a copy: the caller keeps what it got.
    const copy = structuredClone(value);
    return validate(copy) ? [] : [`${what}: ${this.ajv.errorsText(validate.errors)} in ${JSON.stringify(value).slice(0, 300)}`];
  }
}

const escape = (segment: string) => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
const mediaType = (header: string) => header.split(';')[0].trim().toLowerCase();

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parsedBody(exchange: Exchange): unknown {
  if (!exchange.requestText) return undefined;
  const media = mediaType(exchange.requestType ?? '');
  if (media === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(exchange.requestText));
  return jsonOrText(exchange.requestText);
}
