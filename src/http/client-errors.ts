/**
 * Requests Node's HTTP parser refuses before any route sees them (headers over
 * its limit, a malformed request line, a request that took too long to
 * arrive): Node would answer with a bare status line and no body. The
 * service answers them as every other refusal, an RFC 9457 problem document
 * with a stable code, then closes the connection (its framing is unknown).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { DomainError } from '../errors.js';
import { problemOf } from './problem.js';

/** The refusal for a parser error, by Node's error code (the statuses Node's own handler uses). */
export function clientErrorProblem(code: string | undefined): DomainError {
  if (code === 'HPE_HEADER_OVERFLOW') return new DomainError('HEADERS_TOO_LARGE', `the request headers are larger than the limit (${http.maxHeaderSize} bytes in all)`);
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new DomainError('REQUEST_TIMEOUT', 'the request did not arrive in time');
  return new DomainError('MALFORMED_REQUEST', 'the request is not valid HTTP/1.1');
}

function answer(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A peer that went away, or a socket already answering (its response started), gets nothing more.
  const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const { status, body } = problemOf(clientErrorProblem(err.code));
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${String(body.title)}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/** Answer the server's parser refusals with problem documents (instead of Node's bodiless default). */
export function answerClientErrors(server: http.Server): http.Server {
  server.on('clientError', answer);
  return server;
}
