/**
 * The web page (lib/service/public/: plain HTML, CSS and a script; no build step) served at `/`.
 * The three files are read once when the server is created and answered from memory with a
 * strict Content-Security-Policy: the page talks only to this server.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes, TrmError } from '../errors';

const FILES: ReadonlyArray<readonly [route: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/style.css', 'style.css', 'text/css; charset=utf-8'],
];

const HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/**
 * The folder holding index.html: beside this file when run from lib/ (ts-node, jest), and
 * lib/service/public of the package when run compiled from dist/cjs/service.
 */
export function pageDir(): string {
  const candidates = [path.join(__dirname, 'public'), path.resolve(__dirname, '..', '..', '..', 'lib', 'service', 'public')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'index.html')));
  if (!found) throw new TrmError(ErrorCodes.IO, `the web page is missing: no index.html in ${candidates.join(' or ')}`);
  return found;
}

/** Registers GET /, /app.js and /style.css (hidden from the OpenAPI document). */
export function registerPage(app: FastifyInstance, dir: string = pageDir()): void {
  for (const [route, file, type] of FILES) {
    const body = fs.readFileSync(path.join(dir, file));
    app.get(route, { schema: { hide: true } }, async (_req, reply) => reply.headers(HEADERS).type(type).send(body));
  }
}
